package jsonlimit_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/internal/jsonlimit"
)

func TestCheck(t *testing.T) {
	l := jsonlimit.Limits{Depth: 3, ArrayItems: 3, Values: 12}
	cases := []struct {
		doc  string
		want string // "" = within the limits
	}{
		{`{"a":[1,2,3],"b":{"c":"x"}}`, ""},
		{`{"a":[1,2,3,4]}`, "array has more than 3 items"},
		{`[[["deep"]]]`, ""},
		{`[[[["deeper"]]]]`, "nested deeper than 3 levels"},
		{`{"a":{"b":{"c":{}}}}`, "nested deeper than 3 levels"},
		// Keys are not values; strings with escaped quotes, brackets and
		// commas inside are one value each.
		{`{"k1":"a\"[,]","k2":"b","k3":"c","k4":"d","k5":"e","k6":"f"}`, ""},
		{`[1,2,3]`, ""},
		{`{"a":[1,2],"b":[3,4],"c":[5,6],"d":[7,8],"e":true}`, "more than 12 values"},
		{`{"a":[{"x":1},{"x":2},{"x":3}]}`, ""},
		{`{"a":[[],[],[],[]]}`, "array has more than 3 items"},
		{`{"a":[true,false,null,-1.5e3]}`, "array has more than 3 items"},
	}
	for _, c := range cases {
		err := l.Check([]byte(c.doc))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.doc, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, jsonlimit.ErrLimit)):
			t.Errorf("%s: %v, want %q", c.doc, err, c.want)
		}
	}
}

// BenchmarkCheck100k: the scan of the attack's shape, a 100,000-item array.
func BenchmarkCheck100k(b *testing.B) {
	doc := []byte(`{"to":[` + strings.Repeat(`"x",`, 99999) + `"x"]}`)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		_ = jsonlimit.Limits{}.Check(doc)
	}
}
