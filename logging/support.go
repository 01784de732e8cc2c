package logging

import (
	"context"
	"fmt"
	"strings"

	bc "github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/catalog/dss"
	ms "github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/session"
)

// ModemFileTransfer is the device service whose DSS sessions carry modem
// logs (Microsoft's "MB modem logging with DSS").
var ModemFileTransfer = mbim.MustParseUUID("0ebb1ceb-af2d-484d-8df3-53bc51fd162c")

// DSS payload bits of a DEVICE_SERVICES entry.
const (
	PayloadHostToDevice = 1 << 0
	PayloadDeviceToHost = 1 << 1
)

// Support is what a modem advertises in DEVICE_SERVICES for logging.
type Support struct {
	// Known is false when the modem did not answer DEVICE_SERVICES: the
	// rest is then unknown, and logging is attempted anyway.
	Known bool
	// MaxDSSSessions is the number of DSS sessions the modem allows in
	// total.
	MaxDSSSessions uint32
	// DSSConnect: the DSS service is listed with its connect CID.
	DSSConnect bool
	// FileTransfer: the ModemFileTransfer service is listed; DSSPayload
	// and MaxDSSInstances are its DSS entries.
	FileTransfer    bool
	DSSPayload      uint32
	MaxDSSInstances uint32
	// ConfigCID: MS Basic Connect Extensions is listed with
	// MODEM_LOGGING_CONFIG (CID 13).
	ConfigCID bool
}

// NotSupportedError says why a modem cannot log over DSS, from what it
// advertises in DEVICE_SERVICES.
type NotSupportedError struct {
	Support Support
	Reasons []string
}

func (e *NotSupportedError) Error() string {
	return "logging: the modem does not support modem logging over DSS: " + strings.Join(e.Reasons, "; ")
}

// Err returns a *NotSupportedError when what the modem advertises rules
// logging out, nil otherwise. A missing MODEM_LOGGING_CONFIG is not fatal:
// the modem then logs with the configuration it has.
func (s Support) Err() error {
	if !s.Known {
		return nil
	}
	var why []string
	if !s.FileTransfer {
		why = append(why, "DEVICE_SERVICES lists no ModemFileTransfer service ("+ModemFileTransfer.String()+"), the DSS service that carries modem logs: its firmware does not offer Microsoft's modem logging")
	} else {
		if s.DSSPayload&PayloadDeviceToHost == 0 {
			why = append(why, fmt.Sprintf("ModemFileTransfer's DSS payload is 0x%x: it does not send data to the host (bit 1)", s.DSSPayload))
		}
		if s.MaxDSSInstances == 0 {
			why = append(why, "ModemFileTransfer allows 0 DSS instances (MaxDssInstances)")
		}
	}
	if s.MaxDSSSessions == 0 {
		why = append(why, "DEVICE_SERVICES says MaxDssSessions 0: the modem allows no device service stream sessions")
	}
	if !s.DSSConnect {
		why = append(why, "DEVICE_SERVICES does not list the DSS service's connect CID ("+dss.UUID.String()+" CID 1), which opens the stream")
	}
	if len(why) == 0 {
		return nil
	}
	return &NotSupportedError{Support: s, Reasons: why}
}

// String summarises the support, e.g. "ModemFileTransfer: DSS payload
// 0x2 (device to host), at most 1 instance; at most 1 DSS session;
// MODEM_LOGGING_CONFIG supported".
func (s Support) String() string {
	if !s.Known {
		return "unknown: the modem did not answer DEVICE_SERVICES"
	}
	var b strings.Builder
	if s.FileTransfer {
		dir := []string{}
		if s.DSSPayload&PayloadHostToDevice != 0 {
			dir = append(dir, "host to device")
		}
		if s.DSSPayload&PayloadDeviceToHost != 0 {
			dir = append(dir, "device to host")
		}
		fmt.Fprintf(&b, "ModemFileTransfer: DSS payload 0x%x (%s), at most %d %s", s.DSSPayload, strings.Join(dir, ", "),
			s.MaxDSSInstances, plural(int64(s.MaxDSSInstances), "instance", "instances"))
	} else {
		b.WriteString("no ModemFileTransfer service")
	}
	fmt.Fprintf(&b, "; at most %d DSS %s", s.MaxDSSSessions, plural(int64(s.MaxDSSSessions), "session", "sessions"))
	if s.ConfigCID {
		b.WriteString("; MODEM_LOGGING_CONFIG supported")
	} else {
		b.WriteString("; no MODEM_LOGGING_CONFIG")
	}
	return b.String()
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// CheckSupport reads what the modem advertises for logging: the
// DEVICE_SERVICES the session recorded when it opened, or a new query if
// it has none. Use Support.Err to tell whether logging can work.
func CheckSupport(ctx context.Context, s *session.Session) (Support, error) {
	list, maxDSS := s.Services()
	if list == nil {
		var r bc.DeviceServicesResponse
		if err := s.Do(ctx, bc.UUID, bc.CIDDeviceServices, mbim.CommandQuery, nil, &r); err != nil {
			if ctx.Err() != nil {
				return Support{}, err
			}
			return Support{}, nil // unknown
		}
		list, maxDSS = r.DeviceServices, r.MaxDssSessions
	}
	sup := Support{Known: true, MaxDSSSessions: maxDSS}
	for _, e := range list {
		switch e.DeviceServiceId {
		case ModemFileTransfer:
			sup.FileTransfer = true
			sup.DSSPayload, sup.MaxDSSInstances = e.DssPayload, e.MaxDssInstances
		case dss.UUID:
			sup.DSSConnect = sup.DSSConnect || len(e.Cids) == 0 || containsCID(e.Cids, dss.CIDConnect)
		case ms.UUID:
			sup.ConfigCID = sup.ConfigCID || containsCID(e.Cids, ms.CIDModemLoggingConfig)
		}
	}
	return sup, nil
}

func containsCID(l []uint32, cid uint32) bool {
	for _, c := range l {
		if c == cid {
			return true
		}
	}
	return false
}
