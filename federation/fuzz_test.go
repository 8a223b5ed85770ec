package federation

import "testing"

// FuzzDecodeActivity: the inbox's decoder never panics and whatever it
// accepts has absolute http(s) id and actor.
func FuzzDecodeActivity(f *testing.F) {
	for _, seed := range []string{
		`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://a.example/1","type":"Follow","actor":"https://a.example/u","object":"https://b.example/u"}`,
		`{"id":"https://a.example/2","type":"Create","actor":{"id":"https://a.example/u"},"object":{"id":"https://a.example/n","type":"Note","content":"<p>x</p>","contentMap":{"en":"<p>x</p>"}}}`,
		`{"id":"https://a.example/3","type":"Undo","actor":"https://a.example/u","object":{"id":"https://a.example/1","type":"Follow"}}`,
		`{"id":"https://a.example/4","type":["Announce"],"actor":"https://a.example/u","object":["https://c.example/x"]}`,
		`{"id":"javascript:alert(1)","type":"Delete","actor":"https://a.example/u","object":"https://a.example/u"}`,
		`[]`, `null`, `{"type":"Like"}`, `{"id":1,"type":2}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := decodeActivity(data)
		if err != nil {
			return
		}
		if !absoluteHTTP(in.ID) || !absoluteHTTP(in.Actor) || in.Type == "" {
			t.Fatalf("accepted an activity without absolute id/actor: %+v", in)
		}
	})
}
