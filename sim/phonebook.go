package sim

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	pb "github.com/gombim/gombim/catalog/phonebook"
	"github.com/gombim/gombim/mbim"
)

// Phonebook (MBIM 1.0 section 10.5.35 to 10.5.38): the SIM's phonebook,
// with the scenario's entries, read, written and deleted by index.

func init() {
	Handle(pb.UUID, pb.CIDConfiguration, handlePhonebookConfiguration)
	Handle(pb.UUID, pb.CIDRead, handlePhonebookRead)
	Handle(pb.UUID, pb.CIDDelete, handlePhonebookDelete)
	Handle(pb.UUID, pb.CIDWrite, handlePhonebookWrite)
	registerScenarioCheck(func(s *Scenario) error { return s.Phonebook.check() })
}

// PhonebookConfig is the SIM phonebook at power-up (scenario key
// phonebook).
type PhonebookConfig struct {
	// MaxEntries is the number of places (250); MaxNumber and MaxName the
	// longest number and name (40, 20 characters).
	MaxEntries uint32 `json:"max_entries"`
	MaxNumber  uint32 `json:"max_number"`
	MaxName    uint32 `json:"max_name"`
	// Entries are the contents. Omitted: voicemail and customer care; []
	// for an empty phonebook.
	Entries []PhonebookEntry `json:"entries"`
}

// PhonebookEntry is one contact.
type PhonebookEntry struct {
	Index  uint32 `json:"index"` // 1..max_entries; 0: the next free one
	Name   string `json:"name"`
	Number string `json:"number"`
}

func (c *PhonebookConfig) check() error {
	if c.MaxEntries == 0 {
		c.MaxEntries = 250
	}
	if c.MaxNumber == 0 {
		c.MaxNumber = 40
	}
	if c.MaxName == 0 {
		c.MaxName = 20
	}
	if c.Entries == nil {
		c.Entries = []PhonebookEntry{{Index: 1, Name: "Voicemail", Number: "+15551230000"},
			{Index: 2, Name: "Customer care", Number: "611"}}
	}
	used := map[uint32]bool{}
	for i, e := range c.Entries {
		if e.Index > c.MaxEntries || (e.Index != 0 && used[e.Index]) {
			return fmt.Errorf("phonebook.entries[%d]: index %d is used twice or beyond max_entries %d", i, e.Index, c.MaxEntries)
		}
		used[e.Index] = true
		if err := c.fits(e.Name, e.Number); err != nil {
			return fmt.Errorf("phonebook.entries[%d]: %v", i, err)
		}
	}
	if uint32(len(c.Entries)) > c.MaxEntries {
		return fmt.Errorf("phonebook: %d entries, max_entries %d", len(c.Entries), c.MaxEntries)
	}
	return nil
}

func (c *PhonebookConfig) fits(name, number string) error {
	if uint32(utf8.RuneCountInString(name)) > c.MaxName {
		return fmt.Errorf("name %q longer than %d characters", name, c.MaxName)
	}
	if uint32(len(number)) > c.MaxNumber {
		return fmt.Errorf("number %q longer than %d digits", number, c.MaxNumber)
	}
	if strings.Trim(strings.TrimPrefix(number, "+"), "0123456789*#pPwW,") != "" {
		return fmt.Errorf("number %q: want digits, *, #, and pauses", number)
	}
	return nil
}

type phonebookState struct {
	entries []pb.PhonebookEntry // sorted by index
}

func phonebook(m *Modem) *phonebookState {
	return m.Ext("phonebook", func() any {
		st := &phonebookState{}
		var later []PhonebookEntry
		for _, e := range m.sc.Phonebook.Entries {
			if e.Index == 0 {
				later = append(later, e)
				continue
			}
			st.put(pb.PhonebookEntry{EntryIndex: e.Index, Name: e.Name, Number: e.Number})
		}
		for _, e := range later {
			st.put(pb.PhonebookEntry{EntryIndex: st.free(m.sc.Phonebook.MaxEntries), Name: e.Name, Number: e.Number})
		}
		return st
	}).(*phonebookState)
}

func (st *phonebookState) find(index uint32) int {
	return slices.IndexFunc(st.entries, func(e pb.PhonebookEntry) bool { return e.EntryIndex == index })
}

// free returns the first free index (0: none).
func (st *phonebookState) free(max uint32) uint32 {
	for i := uint32(1); i <= max; i++ {
		if st.find(i) < 0 {
			return i
		}
	}
	return 0
}

// put stores e, replacing what is at its index.
func (st *phonebookState) put(e pb.PhonebookEntry) {
	if i := st.find(e.EntryIndex); i >= 0 {
		st.entries[i] = e
		return
	}
	st.entries = append(st.entries, e)
	slices.SortFunc(st.entries, func(a, b pb.PhonebookEntry) int { return int(a.EntryIndex) - int(b.EntryIndex) })
}

func (m *Modem) phonebookInfo() *pb.ConfigurationResponse {
	c := m.sc.Phonebook
	state := pb.PhonebookStateInitialized
	if m.simStatus() != mbim.StatusNone {
		state = pb.PhonebookStateNotInitialized
	}
	return &pb.ConfigurationResponse{State: state, NumberOfEntries: c.MaxEntries,
		UsedEntries: uint32(len(phonebook(m).entries)), MaxNumberLength: c.MaxNumber, MaxName: c.MaxName}
}

func (m *Modem) notifyPhonebook() {
	m.Notify(pb.UUID, pb.CIDConfiguration, m.phonebookInfo())
}

func handlePhonebookConfiguration(m *Modem, r *Request) Reply {
	if m.activeSIM().state == SIMNotInserted {
		return Fail(mbim.StatusSIMNotInserted)
	}
	return OK(m.phonebookInfo())
}

func handlePhonebookRead(m *Modem, r *Request) Reply {
	if st := m.simStatus(); st != mbim.StatusNone {
		return Fail(st)
	}
	q, ok := r.Info.(*pb.ReadQuery)
	if !ok {
		return Fail(mbim.StatusInvalidParameters)
	}
	st := phonebook(m)
	switch q.FilterFlag {
	case pb.PhonebookFlagAll:
		return OK(&pb.ReadResponse{Entries: slices.Clone(st.entries)})
	case pb.PhonebookFlagIndex:
		i := st.find(q.FilterMessageIndex)
		if i < 0 {
			return Fail(mbim.StatusInvalidMemoryIndex)
		}
		return OK(&pb.ReadResponse{Entries: []pb.PhonebookEntry{st.entries[i]}})
	}
	return Fail(mbim.StatusInvalidParameters)
}

func handlePhonebookDelete(m *Modem, r *Request) Reply {
	if st := m.simStatus(); st != mbim.StatusNone {
		return Fail(st)
	}
	s, ok := r.Info.(*pb.DeleteSet)
	if !ok {
		return Fail(mbim.StatusInvalidParameters)
	}
	st := phonebook(m)
	switch s.FilterFlag {
	case pb.PhonebookFlagAll:
		st.entries = nil
		m.log("phonebook: all deleted")
	case pb.PhonebookFlagIndex:
		i := st.find(s.FilterMessageIndex)
		if i < 0 {
			return Fail(mbim.StatusInvalidMemoryIndex)
		}
		st.entries = slices.Delete(st.entries, i, i+1)
		m.log("phonebook: %d deleted", s.FilterMessageIndex)
	default:
		return Fail(mbim.StatusInvalidParameters)
	}
	m.notifyPhonebook()
	return OK(nil)
}

func handlePhonebookWrite(m *Modem, r *Request) Reply {
	if st := m.simStatus(); st != mbim.StatusNone {
		return Fail(st)
	}
	s, ok := r.Info.(*pb.WriteSet)
	if !ok {
		return Fail(mbim.StatusInvalidParameters)
	}
	c := m.sc.Phonebook
	if err := c.fits(s.Name, s.Number); err != nil {
		m.log("phonebook: write: %v", err)
		if strings.Contains(err.Error(), "longer") {
			return Fail(mbim.StatusParameterTooLong)
		}
		return Fail(mbim.StatusInvalidParameters)
	}
	st := phonebook(m)
	index := s.SaveIndex
	switch s.SaveFlag {
	case pb.PhonebookWriteFlagUnused:
		if index = st.free(c.MaxEntries); index == 0 {
			return Fail(mbim.StatusMemoryFull)
		}
	case pb.PhonebookWriteFlagIndex:
		if index == 0 || index > c.MaxEntries {
			return Fail(mbim.StatusInvalidMemoryIndex)
		}
	default:
		return Fail(mbim.StatusInvalidParameters)
	}
	st.put(pb.PhonebookEntry{EntryIndex: index, Name: s.Name, Number: s.Number})
	m.log("phonebook: %d = %s %s", index, s.Name, s.Number)
	m.notifyPhonebook()
	return OK(nil)
}

// Phonebook returns the phonebook's entries, by index.
func (m *Modem) Phonebook() []PhonebookEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []PhonebookEntry
	for _, e := range phonebook(m).entries {
		out = append(out, PhonebookEntry{Index: e.EntryIndex, Name: e.Name, Number: e.Number})
	}
	return out
}
