package plan

import "github.com/ogpnet/ogpnet/federation/ogp"

// StripBidi removes Unicode bidirectional formatting characters
// (ogp.IsBidiControl: U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
// U+061C) from every plain-text field of the plan: a title or a name with
// U+202E would reorder what pages, feeds and fediverse clients show around
// it. The store calls it on every write (API, forms, import), before
// validation, so a field of bidi controls only is blank.
func (p *ActionPlan) StripBidi() {
	p.Title, p.Summary = stripText(p.Title), stripText(p.Summary)
	p.Jurisdiction = ogp.StripBidi(p.Jurisdiction)
}

// StripBidi removes bidirectional formatting characters from every
// plain-text field of the commitment and its milestones (see
// ActionPlan.StripBidi).
func (c *Commitment) StripBidi() {
	c.Title = stripText(c.Title)
	c.LeadInstitution = ogp.StripBidi(c.LeadInstitution)
	c.OtherActors.Government = stripList(c.OtherActors.Government)
	c.OtherActors.CivilSociety = stripList(c.OtherActors.CivilSociety)
	c.Problem, c.Objective, c.Description = stripText(c.Problem), stripText(c.Objective), stripText(c.Description)
	if c.Milestones != nil {
		ms := make([]Milestone, len(c.Milestones))
		for i, m := range c.Milestones {
			m.Title, m.Deliverable = stripText(m.Title), stripText(m.Deliverable)
			ms[i] = m
		}
		c.Milestones = ms
	}
}

// StripBidi removes bidirectional formatting characters from the update's
// text (see ActionPlan.StripBidi).
func (u *ProgressUpdate) StripBidi() { u.Text = stripText(u.Text) }

// stripText returns a copy of t without bidi controls (t's map may be
// shared with the caller's value, so it is not changed in place).
func stripText(t Text) Text {
	if len(t.Map) == 0 {
		return t
	}
	out := Text{Lang: t.Lang, Map: make(map[string]string, len(t.Map))}
	for lang, s := range t.Map {
		out.Map[lang] = ogp.StripBidi(s)
	}
	return out
}

func stripList(l []string) []string {
	if l == nil {
		return nil
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = ogp.StripBidi(s)
	}
	return out
}
