package main

import (
	"fmt"
	"sort"
	"strings"
)

// versionRank orders MBIMEx versions as written in definitions ("" is 1.0).
func versionRank(v string) int {
	switch v {
	case "", "1.0":
		return 1
	case "2.0":
		return 2
	case "3.0":
		return 3
	case "4.0":
		return 4
	}
	return 99
}

func versionText(v string) string {
	if v == "" {
		return "1.0"
	}
	return v
}

// layoutAt returns the message of kind k in effect at version v, or nil.
func layoutAt(ms []*msg, k, v string) *msg {
	var best *msg
	for _, m := range ms {
		if m.kind != k || versionRank(m.version) > versionRank(v) {
			continue
		}
		if best == nil || versionRank(m.version) > versionRank(best.version) {
			best = m
		}
	}
	return best
}

type helperRange struct {
	name     string
	from, to string // to "": no upper bound
	req      *msg
	resp     *msg
}

// helperRanges splits the MBIMEx versions into ranges over which the request
// layout of kind k and the response layout stay the same: one helper each.
func helperRanges(c *cidDef, ms []*msg, k string) []helperRange {
	seen := map[int]string{}
	for _, m := range ms {
		if m.kind == k || m.kind == "response" {
			seen[versionRank(m.version)] = m.version
		}
	}
	var ranks []int
	for r := range seen {
		ranks = append(ranks, r)
	}
	sort.Ints(ranks)
	verb := kindTitle[k]
	var out []helperRange
	for i, r := range ranks {
		v := seen[r]
		req := layoutAt(ms, k, v)
		if req == nil {
			continue
		}
		h := helperRange{name: verb + camel(c.Name) + versionSuffix(v), from: v, req: req, resp: layoutAt(ms, "response", v)}
		if i+1 < len(ranks) {
			h.to = seen[ranks[i+1]]
		}
		out = append(out, h)
	}
	return out
}

// helpers writes the typed request helpers of one CID: for query and set,
// one function per range of MBIMEx versions with the same layouts.
func (g *gen) helpers(c *cidDef, ms []*msg) {
	for _, k := range []string{"query", "set"} {
		hs := helperRanges(c, ms, k)
		for i, h := range hs {
			g.imports["context"] = true
			spec := "call" + h.name
			var others []string
			for j, o := range hs {
				if j == i {
					continue
				}
				w := fmt.Sprintf("use %s.%s from MBIMEx %s", g.s.Package, o.name, versionText(o.from))
				if o.to != "" {
					w = fmt.Sprintf("use %s.%s with MBIMEx %s up to %s", g.s.Package, o.name, versionText(o.from), o.to)
				}
				others = append(others, w)
			}
			max := "0"
			if h.to != "" {
				max = versionConst(h.to)
			}
			ct := "mbim.CommandQuery"
			if k == "set" {
				ct = "mbim.CommandSet"
			}
			g.p("var %s = mbim.CallSpec{Func: %q, Service: UUID, CID: %d, CIDName: %q, Type: %s, Min: %s, Max: %s, Others: %q}",
				spec, g.s.Package+"."+h.name, c.ID, c.Name, ct, versionConst(h.from), max, strings.Join(others, "; "))
			g.p("")

			// Doc comment.
			what := "a " + c.Name + " " + k
			if k == "query" {
				what = "a " + c.Name + " query"
			}
			respDesc := "and waits for the response"
			if h.resp != nil && !h.resp.empty {
				respDesc = "and returns the response (" + h.resp.typeName + ")"
			}
			g.p("// %s sends %s %s.", h.name, what, respDesc)
			rng := fmt.Sprintf("It applies when the session negotiated MBIMEx %s or later", versionText(h.from))
			if h.to != "" {
				rng = fmt.Sprintf("It applies when the session negotiated MBIMEx %s up to (not including) %s", versionText(h.from), h.to)
			}
			if len(hs) > 1 || h.from != "" && h.from != "1.0" {
				g.p("// %s,", rng)
				g.p("// and fails with a *mbim.MBIMExError otherwise.")
			}
			if h.resp != nil && !h.resp.empty {
				g.p("// A failure status is a *mbim.StatusError; the response is returned")
				g.p("// with it when the device sent one.")
			} else {
				g.p("// A failure status is a *mbim.StatusError.")
			}
			params := "ctx context.Context, c mbim.Caller"
			reqArg := "nil"
			if !h.req.empty {
				params += ", req *" + h.req.typeName
				reqArg = "req"
			}
			if h.resp != nil && !h.resp.empty {
				g.p("func %s(%s) (*%s, error) {", h.name, params, h.resp.typeName)
				if !h.req.empty {
					g.p("\tif req == nil {")
					g.p("\t\treq = new(%s)", h.req.typeName)
					g.p("\t}")
				}
				g.p("\tresp := new(%s)", h.resp.typeName)
				g.p("\tok, err := mbim.Call(ctx, c, &%s, %s, resp)", spec, reqArg)
				g.p("\tif !ok {")
				g.p("\t\treturn nil, err")
				g.p("\t}")
				g.p("\treturn resp, err")
				g.p("}")
			} else {
				g.p("func %s(%s) error {", h.name, params)
				if !h.req.empty {
					g.p("\tif req == nil {")
					g.p("\t\treq = new(%s)", h.req.typeName)
					g.p("\t}")
				}
				g.p("\t_, err := mbim.Call(ctx, c, &%s, %s, nil)", spec, reqArg)
				g.p("\treturn err")
				g.p("}")
			}
			g.p("")
		}
	}
}
