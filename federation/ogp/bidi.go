package ogp

import "strings"

// IsBidiControl reports whether r is a Unicode bidirectional formatting
// character: the embeddings and overrides U+202A–U+202E, the isolates
// U+2066–U+2069, the marks U+200E and U+200F, and the Arabic letter mark
// U+061C. In a name or a title they let one party's text reorder what is
// shown around it (U+202E makes "gpj.exe" read "exe.jpg"), and names and
// titles never need them.
func IsBidiControl(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return r == 0x200E || r == 0x200F || r == 0x061C
}

// StripBidi returns s without its bidirectional formatting characters
// (IsBidiControl). Most text has none: it is then returned as is.
func StripBidi(s string) string {
	// Every such character is encoded starting with 0xE2 or 0xD8.
	if strings.IndexByte(s, 0xE2) < 0 && strings.IndexByte(s, 0xD8) < 0 {
		return s
	}
	if strings.IndexFunc(s, IsBidiControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if IsBidiControl(r) {
			return -1
		}
		return r
	}, s)
}

// stripBidiMap strips every value of m in place.
func stripBidiMap(m LangMap) {
	for k, v := range m {
		m[k] = StripBidi(v)
	}
}

func stripBidiList(l []string) {
	for i, v := range l {
		l[i] = StripBidi(v)
	}
}

// The plain-text fields of each object lose their bidi controls when a
// document is parsed (parseObject), so that no reader of a parsed object
// (the hub's read model, pages, API and exports) sees them. HTML content
// is left as sent.

func (c *Commitment) stripBidi() {
	c.Name, c.Summary = StripBidi(c.Name), StripBidi(c.Summary)
	stripBidiMap(c.NameMap)
	stripBidiMap(c.SummaryMap)
	c.Jurisdiction, c.LeadInstitution = StripBidi(c.Jurisdiction), StripBidi(c.LeadInstitution)
	c.Problem, c.Objective = StripBidi(c.Problem), StripBidi(c.Objective)
	stripBidiMap(c.ProblemMap)
	stripBidiMap(c.ObjectiveMap)
	if c.OtherActors != nil {
		stripBidiList(c.OtherActors.Government)
		stripBidiList(c.OtherActors.CivilSociety)
	}
	for i := range c.Milestones {
		m := &c.Milestones[i]
		m.Name, m.Deliverable = StripBidi(m.Name), StripBidi(m.Deliverable)
		stripBidiMap(m.NameMap)
		stripBidiMap(m.DeliverableMap)
	}
	for i := range c.Tag {
		c.Tag[i].Name = StripBidi(c.Tag[i].Name)
	}
}

func (p *ActionPlan) stripBidi() {
	p.Name, p.Summary = StripBidi(p.Name), StripBidi(p.Summary)
	stripBidiMap(p.NameMap)
	stripBidiMap(p.SummaryMap)
	p.Jurisdiction = StripBidi(p.Jurisdiction)
}

func (u *ProgressUpdate) stripBidi() {
	for i := range u.Tag {
		u.Tag[i].Name = StripBidi(u.Tag[i].Name)
	}
}
