package readmodel

import "testing"

// TestHTMLText: what CSV cells, search and peers read of an HTML field.
func TestHTMLText(t *testing.T) {
	for in, want := range map[string]string{
		"":                                      "",
		"plain  text\n":                         "plain text",
		"<p>One</p><p>Two&nbsp;&amp; three</p>": "One Two & three",
		"a<b>b</b>c":                            "a b c",
		"&lt;p&gt; is a tag, &#34;quoted&#34;":  `<p> is a tag, "quoted"`,
	} {
		if got := HTMLText(in); got != want {
			t.Errorf("HTMLText(%q) = %q, want %q", in, got, want)
		}
	}
}
