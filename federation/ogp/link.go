package ogp

import "encoding/json"

// LinkIRI reads one IRI of a property that ActivityStreams lets be a
// string, a Link or Object ({"href"} or {"id"}), or a list of those (the
// first one): inReplyTo, attributedTo, a Mention's href. "" when none.
func LinkIRI(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		ID   string `json:"id"`
		Href string `json:"href"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		if obj.ID != "" {
			return obj.ID
		}
		return obj.Href
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		return LinkIRI(list[0])
	}
	return ""
}

// LinkIRIs reads every IRI of a property given as one value or a list
// (to, cc, audience), each read as LinkIRI reads it; empty entries are
// dropped.
func LinkIRIs(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		if s := LinkIRI(raw); s != "" {
			return []string{s}
		}
		return nil
	}
	var out []string
	for _, r := range list {
		if s := LinkIRI(r); s != "" {
			out = append(out, s)
		}
	}
	return out
}
