package main

import (
	"go/format"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// generateOne generates the Go file of one service whose CIDs are cids (a
// JSON array), and returns it or the generator's errors.
func generateOne(t *testing.T, cids string) (string, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "catalog", "demo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "demo.json")
	def := `{"service": "demo", "title": "Demo", "uuid": "00112233-4455-6677-8899-aabbccddeeff", "package": "demo",
	  "structs": [{"name": "Pair", "fields": [{"name": "A", "type": "u32"}, {"name": "B", "type": "u32"}]}],
	  "cids": ` + cids + `}`
	if err := os.WriteFile(path, []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := loadService(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	s.dir = dir
	u := &universe{byPkg: map[string]*serviceDef{s.Package: s}, services: []*serviceDef{s}}
	g := &gen{u: u, s: s}
	src, err := g.generate()
	if err != nil {
		return "", err
	}
	out, err := format.Source(src)
	if err != nil {
		t.Fatalf("generated code does not parse: %v\n%s", err, src)
	}
	return string(out), nil
}

// typeDecls returns the "type X = Y" and "type X struct" lines of src.
func typeDecls(src string) []string {
	return regexp.MustCompile(`(?m)^type \w+ (= \w+|struct)`).FindAllString(src, -1)
}

func TestForwardReference(t *testing.T) {
	src, err := generateOne(t, `[
	  {"name": "thing", "id": 1, "doc": "does a thing.",
	   "set": "response",
	   "query": "response",
	   "response": {"fields": [{"name": "SessionId", "type": "u32"}, {"name": "Name", "type": "string"}]},
	   "notify": "response",
	   "variants": [
	     {"mbimex": "2.0", "query": "set", "set": "response", "response": {"fields": [{"name": "SessionId", "type": "u32"}]}}
	   ]},
	  {"name": "other", "id": 2,
	   "set": "query",
	   "query": {"fields": [{"name": "X", "type": "u32"}]}},
	  {"name": "empty", "id": 3, "query": "response", "response": {}},
	  {"name": "pair", "id": 4, "query": "response", "response": {"struct": "Pair"}, "notify": "query"}
	]`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"type Pair struct",
		"type ThingSet = ThingResponse",
		"type ThingQuery = ThingResponse",
		"type ThingResponse struct",
		"type ThingNotify = ThingResponse",
		"type ThingSetV2 = ThingResponseV2",
		"type ThingQueryV2 = ThingResponseV2",
		"type ThingResponseV2 struct",
		"type OtherSet = OtherQuery",
		"type OtherQuery struct",
		"type PairQuery = Pair",
		"type PairResponse = Pair",
		"type PairNotify = Pair",
	}
	if got := typeDecls(src); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("type declarations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// One codec for the thing's three base payloads.
	if n := strings.Count(src, "func (m *ThingResponse) UnmarshalMBIM("); n != 1 {
		t.Errorf("%d decoders of ThingResponse, want 1", n)
	}
	for _, absent := range []string{"func (m *ThingQuery)", "func (m *ThingSet)", "EmptyQuery", "EmptyResponse"} {
		if strings.Contains(src, absent) {
			t.Errorf("generated code has %q", absent)
		}
	}
	// The descriptions keep one entry per payload, in kind order, under
	// the payload's own name.
	for _, line := range []string{
		`{Kind: mbim.KindSet, MBIMEx: mbim.MBIMEx1, Type: "ThingSet", New: func() mbim.Info { return new(ThingSet) }},`,
		`{Kind: mbim.KindQuery, MBIMEx: mbim.MBIMEx1, Type: "ThingQuery", New: func() mbim.Info { return new(ThingQuery) }},`,
		`{Kind: mbim.KindQuery, MBIMEx: mbim.MBIMEx2, Type: "ThingQueryV2", New: func() mbim.Info { return new(ThingQueryV2) }},`,
		`{Kind: mbim.KindQuery, MBIMEx: mbim.MBIMEx1, Type: "", New: nil},`,
	} {
		if !strings.Contains(src, line) {
			t.Errorf("service description lacks %s", line)
		}
	}
	// The request helpers keep the request's name.
	for _, sig := range []string{
		"func QueryThing(ctx context.Context, c mbim.Caller, req *ThingQuery) (*ThingResponse, error)",
		"func SetThingV2(ctx context.Context, c mbim.Caller, req *ThingSetV2) (*ThingResponseV2, error)",
		"func QueryEmpty(ctx context.Context, c mbim.Caller) error",
	} {
		if !strings.Contains(src, sig) {
			t.Errorf("no helper %s", sig)
		}
	}
}

func TestReferenceErrors(t *testing.T) {
	for _, tc := range []struct {
		name, cids string
		want       []string
	}{
		{"missing",
			`[{"name": "thing", "id": 1, "query": "set", "response": {}}]`,
			[]string{`cid thing: query names "set", which the CID does not define`}},
		{"missing in variant",
			`[{"name": "thing", "id": 1, "set": {"fields": [{"name": "X", "type": "u32"}]}, "response": {},
			   "variants": [{"mbimex": "2.0", "response": "set"}]}]`,
			[]string{`cid thing (MBIMEx 2.0 variant): response names "set", which the variant does not define`}},
		{"not a kind",
			`[{"name": "thing", "id": 1, "query": "reply", "response": {}}]`,
			[]string{`cid thing: query names "reply", which is not a kind (set, query, response or notify)`}},
		{"empty name",
			`[{"name": "thing", "id": 1, "query": "", "response": {}}]`,
			[]string{`cid thing: query names "", which is not a kind`}},
		{"itself",
			`[{"name": "thing", "id": 1, "query": {}, "response": "response"}]`,
			[]string{`cid thing: response names itself`}},
		{"cycle of two",
			`[{"name": "thing", "id": 1, "set": "query", "query": "set", "response": {}}]`,
			[]string{`cid thing: set, query name each other in a cycle (set -> query -> set)`}},
		{"cycle of four",
			`[{"name": "thing", "id": 1, "set": "notify", "query": "response", "response": "set", "notify": "query"}]`,
			[]string{`cid thing: set, notify, query, response name each other in a cycle (set -> notify -> query -> response -> set)`}},
		{"cycle of three, and one leading into it",
			`[{"name": "thing", "id": 1, "set": "query", "query": "response", "response": "notify", "notify": "query"}]`,
			[]string{`cid thing: query, response, notify name each other in a cycle (query -> response -> notify -> query)`}},
		{"into a cycle",
			`[{"name": "thing", "id": 1, "set": "query", "query": "response", "response": "query"}]`,
			[]string{`cid thing: query, response name each other in a cycle (query -> response -> query)`}},
		{"through a missing kind",
			`[{"name": "thing", "id": 1, "set": "query", "query": "notify", "response": {}}]`,
			[]string{`cid thing: query names "notify", which the CID does not define`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := generateOne(t, tc.cids)
			if err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Errorf("%d errors, want %d:\n%v", len(lines), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
