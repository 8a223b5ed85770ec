package pages

import (
	"time"

	"github.com/ogpnet/ogpnet/hub/members"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/web"
)

// staffView is the staff members page: every member node, any state, with
// its follow state and health, and the forms to add, suspend, resume and
// remove.
type staffView struct {
	Members []memberRow
	Handle  string // the add form's value, kept after an error
	Error   string
	Done    string // confirmation of the last action
}

type memberRow struct {
	Actor        string
	Name         string
	Handle       string
	Page         string // the pilot's hub page (visible members only)
	URL          string
	State        string
	StateLabel   string
	Follow       string
	FollowLabel  string
	Health       string // members.Member.Health key
	HealthLabel  string
	HealthOK     bool
	LastDelivery string
	Lag          string
	LastBackfill string
	BackfillErr  string
	Commitments  int
	CanSuspend   bool
	CanResume    bool
	CanRemove    bool
}

// staffStates are the membership states, as catalogue ids.
var staffStates = map[string]string{
	members.StateActive:    "hub_state_active",
	members.StateSuspended: "hub_state_suspended",
	members.StateRemoved:   "hub_state_removed",
	readmodel.StatePending: "hub_state_pending",
}

var followStates = map[string]string{
	members.FollowPending:  "hub_follow_pending",
	members.FollowAccepted: "hub_follow_accepted",
	members.FollowRejected: "hub_follow_rejected",
	members.FollowNone:     "hub_follow_none",
}

var healthStates = map[string]string{
	"ok":               "hub_health_ok",
	"quiet":            "hub_health_quiet",
	"backfill-failing": "hub_health_backfill_failing",
}

func label(lang string, ids map[string]string, key string) string {
	if id, ok := ids[key]; ok {
		return web.TLang(lang, id)
	}
	return key
}

func buildStaff(m *readmodel.Model, lang string, list []members.Member, now time.Time) staffView {
	counts := map[string]int{}
	for _, p := range m.AllPilots() {
		counts[p.Actor] = p.Summary.Commitments
	}
	idx := indexPilots(m)
	var v staffView
	for _, mb := range list {
		r := memberRow{
			Actor: mb.Actor, Name: mb.Name, Handle: mb.Handle, URL: readmodel.SafeLink(mb.URL),
			State: mb.State, StateLabel: label(lang, staffStates, mb.State),
			Follow: mb.FollowState, FollowLabel: label(lang, followStates, mb.FollowState),
			LastDelivery: formatStamp(lang, mb.LastDelivery),
			LastBackfill: formatStamp(lang, mb.LastBackfill),
			BackfillErr:  mb.BackfillError,
			Commitments:  counts[mb.Actor],
			CanSuspend:   mb.State == members.StateActive,
			CanResume:    mb.State != members.StateActive,
			CanRemove:    mb.State != members.StateRemoved,
		}
		if r.Name == "" {
			r.Name = mb.Actor
		}
		if mb.State == members.StateActive {
			r.Page = idx.pilotPath(mb.Actor)
		}
		r.Health = mb.Health(now)
		switch {
		case healthStates[r.Health] != "":
			r.HealthLabel = label(lang, healthStates, r.Health)
		case r.Health == "follow-"+mb.FollowState:
			r.HealthLabel = web.TLang(lang, "hub_health_follow", "State", r.FollowLabel)
		default:
			r.HealthLabel = label(lang, staffStates, r.Health)
		}
		r.HealthOK = r.Health == "ok"
		if mb.Lag > 0 {
			r.Lag = web.TLang(lang, "hub_lag_seconds", "Seconds", web.FormatNum(lang, mb.Lag.Seconds()))
		}
		v.Members = append(v.Members, r)
	}
	return v
}

func formatStamp(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return web.TLang(lang, "date_time_format", "Date", formatDay(lang, t.UTC()), "Time", t.UTC().Format("15:04")+" UTC")
}
