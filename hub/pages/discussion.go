package pages

import (
	"html/template"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ogpnet/ogpnet/hub/discussion"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/web"
)

// Paths of the discussion pages.
const (
	PathDiscussion            = "/discussion"
	PathStaffDiscussion       = "/staff/discussion"
	PathStaffDiscussionAction = "/staff/discussion/action"
)

// DiscussionPath returns the discussion page of the network (area "") or
// of one policy area.
func DiscussionPath(area string) string {
	if area == "" {
		return PathDiscussion
	}
	return PathDiscussion + "?area=" + url.QueryEscape(area)
}

// threadDepth is how deep replies nest on a page before they line up
// (a phone's width fits about this many indents).
const threadDepth = 4

// threadView is a commitment's public thread and how to join it.
type threadView struct {
	Nodes []threadNode
	Count int
	// IRI is what a fediverse user pastes into their app's search to find
	// the commitment and reply to it.
	IRI string
	// OwnerName names the government that moderates the thread.
	OwnerName string
}

// threadNode is one post on a page, with its replies.
type threadNode struct {
	ID          string
	Author      string // "@user@host", else the actor IRI
	AuthorURL   string
	Host        string
	Date        string
	DateISO     string
	URL         string // the original
	Summary     string // content warning
	ContentHTML template.HTML
	Government  bool // posted by the commitment's owner (an answer)
	Replies     []threadNode
}

func buildThread(lang string, d *discussion.Service, c readmodel.Commitment) *threadView {
	if d == nil {
		return nil
	}
	posts := d.Thread(c.ID)
	v := &threadView{Count: len(posts), IRI: c.ID, OwnerName: c.PilotName}
	for _, n := range discussion.Nest(posts, threadDepth) {
		v.Nodes = append(v.Nodes, threadNodeOf(lang, n, c.Pilot))
	}
	return v
}

func threadNodeOf(lang string, n discussion.Node, owner string) threadNode {
	t := postNode(lang, n.Post)
	t.Government = owner != "" && n.Actor == owner
	for _, r := range n.Replies {
		t.Replies = append(t.Replies, threadNodeOf(lang, r, owner))
	}
	return t
}

func postNode(lang string, p discussion.Post) threadNode {
	t := threadNode{
		ID: p.ID, Author: p.Handle, AuthorURL: readmodel.SafeLink(p.Actor), Host: p.Host(),
		Date: formatDay(lang, p.Published), DateISO: p.Published.UTC().Format(time.RFC3339),
		URL: p.URL, Summary: p.Summary, ContentHTML: p.ContentHTML(),
	}
	if t.Author == "" {
		t.Author = p.Actor
	}
	return t
}

// figuresView is the learning figures, ready to show.
type figuresView struct {
	Posts       int
	Questions   int
	Answered    int
	AnsweredPct int
	Median      string // "" when nothing was answered
}

func figuresViewOf(lang string, f discussion.Figures) figuresView {
	v := figuresView{Posts: f.Posts, Questions: f.Questions, Answered: f.Answered, AnsweredPct: f.AnsweredPercent()}
	if f.Answered > 0 {
		v.Median = formatWait(lang, f.MedianFirstAnswer)
	}
	return v
}

// formatWait names a waiting time in the largest whole unit that fits.
func formatWait(lang string, d time.Duration) string {
	switch {
	case d < time.Hour:
		return web.TLang(lang, "hub_disc_minutes", max(1, int(d.Minutes())))
	case d < 48*time.Hour:
		return web.TLang(lang, "hub_disc_hours", int(d.Hours()))
	default:
		return web.TLang(lang, "hub_disc_days", int(d.Hours()/24))
	}
}

// discussedItem is one of the most discussed commitments.
type discussedItem struct {
	commitmentItem
	Posts     int
	Questions int
	Answered  int
}

// learningView is the learning figures block shown on the discussion,
// pilot and comparison pages.
type learningView struct {
	Figures       figuresView
	MostDiscussed []discussedItem
	DiscussionURL string
}

// mostDiscussedShown is how many commitments the block lists.
const mostDiscussedShown = 5

// buildLearning returns the learning figures of the commitments keep
// allows (nil: all), or nil without a discussion.
func buildLearning(m *readmodel.Model, lang string, d *discussion.Service, keep func(readmodel.Commitment) bool, link string) *learningView {
	if d == nil {
		return nil
	}
	match := func(id string) bool {
		c, ok := m.Commitment(id)
		return ok && (keep == nil || keep(c))
	}
	v := &learningView{Figures: figuresViewOf(lang, d.FiguresOf(match)), DiscussionURL: link}
	idx := indexPilots(m)
	for _, t := range d.MostDiscussed(match, mostDiscussedShown) {
		c, ok := m.Commitment(t.Commitment)
		if !ok {
			continue
		}
		v.MostDiscussed = append(v.MostDiscussed, discussedItem{commitmentItem: commitmentItemOf(lang, idx, c), Posts: t.Posts, Questions: t.Questions, Answered: t.Answered})
	}
	return v
}

// LearningFigures returns the learning figures of every pilot with
// discussion, by actor: the comparison's compact table shows "questions
// answered" from it.
func LearningFigures(d *discussion.Service) map[string]discussion.Figures {
	if d == nil {
		return nil
	}
	return d.FiguresByPilot()
}

// questionsOf gives the comparison's "questions answered" column from the
// discussion: questions received on a pilot's commitments and how many it
// answered (an in-memory lookup, cached per change of the discussion).
func questionsOf(d *discussion.Service) QuestionsFunc {
	return func(pilot string) (QuestionFigures, bool) {
		f, ok := d.FiguresOfPilot(pilot)
		return QuestionFigures{Asked: f.Questions, Answered: f.Answered}, ok && f.Questions > 0
	}
}

// recentPost is a post on the discussion page, with its commitment.
type recentPost struct {
	threadNode
	Commitment     string
	CommitmentPath string
	Pilot          pilotRef
}

// discussionView is the network's (or one policy area's) discussion page.
type discussionView struct {
	Area     string
	AreaName string
	Areas    []themeLink // every area with discussion, to narrow the page
	Learning *learningView
	Recent   []recentPost
}

// recentShown is how many posts the discussion page lists.
const recentShown = 50

func buildDiscussion(m *readmodel.Model, lang string, d *discussion.Service, area string) discussionView {
	v := discussionView{Area: area}
	if area != "" {
		v.AreaName = themeLabel(lang, area)
	}
	inArea := func(c readmodel.Commitment) bool { return area == "" || slices.Contains(c.Themes, area) }
	v.Learning = buildLearning(m, lang, d, inArea, "")
	idx := indexPilots(m)
	areas := map[string]bool{}
	for _, t := range d.MostDiscussed(nil, 0) {
		if c, ok := m.Commitment(t.Commitment); ok {
			for _, a := range c.Themes {
				areas[a] = true
			}
		}
	}
	keep := func(p discussion.Post) bool {
		if area == "" {
			return true
		}
		c, ok := m.Commitment(p.Commitment)
		return ok && inArea(c)
	}
	for _, p := range d.Recent(keep, recentShown) {
		r := recentPost{threadNode: postNode(lang, p)}
		if c, ok := m.Commitment(p.Commitment); ok {
			r.Commitment, r.CommitmentPath, r.Pilot = c.Name.In(lang), CommitmentPath(c.ID), idx.ref(c.Pilot, c.PilotName)
			r.Government = p.Actor == c.Pilot
		}
		v.Recent = append(v.Recent, r)
	}
	for a := range areas {
		v.Areas = append(v.Areas, themeLink{Name: themeLabel(lang, a), Path: DiscussionPath(a)})
	}
	slices.SortFunc(v.Areas, func(a, b themeLink) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return v
}

// staffDiscussionView is the staff moderation page.
type staffDiscussionView struct {
	Held     []staffPost
	Approved []staffPost
	Hidden   []staffPost
	Blocks   []blockRow
	Audit    []auditRow
	Done     string
	Error    string
}

type staffPost struct {
	threadNode
	Actor          string
	Commitment     string
	CommitmentPath string
	Via            string
}

type blockRow struct {
	Key, Kind, Value, By, At string
}

type auditRow struct {
	At, By, Action, Target string
}

// staffApprovedShown is how many approved posts the moderation page lists
// (newest first), so staff can hide one quickly.
const staffApprovedShown = 50

// auditShown is how many audit entries the moderation page lists.
const auditShown = 100

func buildStaffDiscussion(m *readmodel.Model, lang string, d *discussion.Service) staffDiscussionView {
	var v staffDiscussionView
	row := func(p discussion.Post) staffPost {
		s := staffPost{threadNode: postNode(lang, p), Actor: p.Actor, Via: web.TLang(lang, "hub_disc_via_"+string(p.Via))}
		if c, ok := m.Commitment(p.Commitment); ok {
			s.Commitment, s.CommitmentPath = c.Name.In(lang), CommitmentPath(c.ID)
		}
		return s
	}
	for _, p := range d.WithStatus(discussion.Held) {
		v.Held = append(v.Held, row(p))
	}
	for _, p := range d.Recent(nil, staffApprovedShown) {
		v.Approved = append(v.Approved, row(p))
	}
	for _, p := range d.WithStatus(discussion.Hidden) {
		v.Hidden = append(v.Hidden, row(p))
	}
	for _, b := range d.Blocks() {
		v.Blocks = append(v.Blocks, blockRow{Key: b.Key, Kind: web.TLang(lang, "hub_disc_kind_"+b.Kind), Value: b.Value, By: b.By, At: formatStamp(lang, b.At)})
	}
	for _, e := range d.Audit(auditShown) {
		v.Audit = append(v.Audit, auditRow{At: formatStamp(lang, e.At), By: e.By, Action: web.TLang(lang, "hub_disc_action_"+auditKey(e.Action)), Target: e.Target})
	}
	return v
}

// auditKey turns an action ("block-actor") into a catalogue id suffix.
func auditKey(action string) string {
	out := []byte(action)
	for i, b := range out {
		if b == '-' {
			out[i] = '_'
		}
	}
	return string(out)
}
