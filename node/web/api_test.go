package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/node/plan/jsonshape"
)

func jsonContext(body, contentType string) echo.Context {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/commitments", strings.NewReader(body))
	req.Header.Set(echo.HeaderContentType, contentType)
	return echo.New().NewContext(req, httptest.NewRecorder())
}

// TestBindJSON: the API reads bodies strictly, and says why it refused one.
func TestBindJSON(t *testing.T) {
	for _, tc := range []struct {
		name, body, ct string
		status         int
		msg            string
	}{
		{"unknown field", `{"id": "JAL0001", "titel": {}}`, "application/json", http.StatusBadRequest, `unknown field "titel"`},
		{"trailing data", `{"id": "JAL0001"} {}`, "application/json", http.StatusBadRequest, "trailing data"},
		{"not JSON", `{"id": `, "application/json", http.StatusBadRequest, "malformed JSON"},
		{"form body", `id=JAL0001`, "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType, "application/json"},
		{"wrong type", `{"id": 5}`, "application/json; charset=utf-8", http.StatusUnprocessableEntity, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in jsonshape.Commitment
			err := bindJSON(jsonContext(tc.body, tc.ct), &in)
			var we *web.Error
			if !errors.As(err, &we) || we.Status != tc.status || !strings.Contains(we.Message, tc.msg) {
				t.Fatalf("bindJSON = %#v, want %d %q", err, tc.status, tc.msg)
			}
			if tc.status == http.StatusUnprocessableEntity && (len(we.Fields) != 1 || we.Fields[0].Field != "id") {
				t.Errorf("a wrong type names its field: %v", we.Fields)
			}
		})
	}
	// The deprecated spelling binds (unknown fields are refused, aliases are not).
	var in jsonshape.Commitment
	if err := bindJSON(jsonContext(`{"id": "JAL0001", "plan": "2016-2018"}`, "application/json"), &in); err != nil {
		t.Fatal(err)
	}
	if id, _ := in.Plan(); id != "2016-2018" {
		t.Errorf("plan alias bound as %q", id)
	}
}

// TestSameAsURL: ids repeated in a body must equal the URL's or be left
// out; every mismatch is named.
func TestSameAsURL(t *testing.T) {
	c := jsonContext(`{}`, "application/json")
	c.SetParamNames("id", "uid")
	c.SetParamValues("JAL0001", "01H0000000000000000000000A")
	if err := sameAsURL(c, urlID{"id", "", "uid"}, urlID{"commitmentId", "JAL0001", "id"}); err != nil {
		t.Errorf("matching or absent ids refused: %v", err)
	}
	err := sameAsURL(c, urlID{"id", "01H0000000000000000000000B", "uid"}, urlID{"commitmentId", "JAL0002", "id"})
	var we *web.Error
	if !errors.As(err, &we) || we.Status != http.StatusUnprocessableEntity || len(we.Fields) != 2 ||
		we.Fields[0].Field != "id" || we.Fields[1].Field != "commitmentId" || !strings.Contains(we.Fields[0].Message, "must match the URL") {
		t.Errorf("mismatched ids: %#v", err)
	}
}

// TestJSONListIsNeverNull: an empty list answers [], which clients iterate,
// never null.
func TestJSONListIsNeverNull(t *testing.T) {
	for _, items := range [][]int{nil, {}} {
		if b, _ := json.Marshal(jsonList(items, func(i int) int { return i })); string(b) != "[]" {
			t.Errorf("jsonList(%#v) = %s, want []", items, b)
		}
	}
	if got := jsonList([]int{1, 2}, func(i int) string { return string(rune('a' - 1 + i)) }); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("jsonList = %q, want [a b]", got)
	}
}
