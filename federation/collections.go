package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ogpnet/ogpnet/federation/delivery"
)

// outboxEntry is one published activity. _id is the sortable tail of the
// activity IRI, so the page cursor is the _id itself.
type outboxEntry struct {
	ID         string    `bson:"_id"`
	ActivityID string    `bson:"activityId"`
	Type       string    `bson:"type"`
	ObjectID   string    `bson:"objectId"`
	Raw        string    `bson:"raw"`
	Published  time.Time `bson:"published"`
}

// Publish records a public activity in the outbox and queues its delivery to
// every follower's (shared) inbox plus extra inboxes. The activity's id must
// come from NewActivityID. The bytes are stored and sent unchanged.
func (s *Server) Publish(ctx context.Context, activity []byte, extraInboxes ...string) error {
	var head struct {
		ID     string          `json:"id"`
		Type   string          `json:"type"`
		Object json.RawMessage `json:"object"`
	}
	if err := json.Unmarshal(activity, &head); err != nil {
		return fmt.Errorf("federation: publish: %w", err)
	}
	tail, err := s.outboxTail(head.ID)
	if err != nil {
		return err
	}
	entry := outboxEntry{
		ID: tail, ActivityID: head.ID, Type: head.Type,
		ObjectID: linkID(head.Object), Raw: string(activity), Published: s.cfg.Now().UTC(),
	}
	if _, err := s.cfg.DB.Collection("outbox").InsertOne(ctx, entry); err != nil {
		return fmt.Errorf("federation: publish: %w", err)
	}
	s.outboxPublished([]string{entry.ID}, [][]byte{activity})
	inboxes := append(s.FollowerInboxes(), extraInboxes...)
	return s.queue.Enqueue(ctx, head.ID, activity, inboxes)
}

// PublishAll is Publish for many activities at once (an import's batch):
// their outbox entries are written with one command, one transaction on
// the embedded store instead of one each, then each is queued for
// delivery.
func (s *Server) PublishAll(ctx context.Context, activities [][]byte) error {
	docs := make([]any, 0, len(activities))
	ids := make([]string, 0, len(activities))
	tails := make([]string, 0, len(activities))
	for _, activity := range activities {
		var head struct {
			ID     string          `json:"id"`
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		if err := json.Unmarshal(activity, &head); err != nil {
			return fmt.Errorf("federation: publish: %w", err)
		}
		tail, err := s.outboxTail(head.ID)
		if err != nil {
			return err
		}
		tails = append(tails, tail)
		docs = append(docs, outboxEntry{
			ID: tail, ActivityID: head.ID, Type: head.Type,
			ObjectID: linkID(head.Object), Raw: string(activity), Published: s.cfg.Now().UTC(),
		})
		ids = append(ids, head.ID)
	}
	if len(docs) == 0 {
		return nil
	}
	if _, err := s.cfg.DB.Collection("outbox").InsertMany(ctx, docs); err != nil {
		return fmt.Errorf("federation: publish: %w", err)
	}
	s.outboxPublished(tails, activities)
	batch := make([]delivery.Activity, len(activities))
	for i, activity := range activities {
		batch[i] = delivery.Activity{ID: ids[i], Body: activity}
	}
	return s.queue.EnqueueMany(ctx, batch, s.FollowerInboxes())
}

// outboxTail returns the outbox entry's _id for an activity id: the NewID
// that NewActivityID put after "/activities/". Only those ids are accepted:
// they sort by time, which outbox pages rely on.
func (s *Server) outboxTail(activityID string) (string, error) {
	tail, ok := strings.CutPrefix(activityID, s.BaseURL()+"/activities/")
	if _, valid := parseOutboxKey(tail); !ok || !valid {
		return "", fmt.Errorf("federation: publish: activity id %q was not minted by NewActivityID", activityID)
	}
	return tail, nil
}

// outboxPublished takes stored entries into the outbox's memory; the
// other replicas learn of them from this process's mark, written a moment
// later (outboxMemory.published).
func (s *Server) outboxPublished(ids []string, activities [][]byte) {
	s.outbox.published(ids, activities)
}

// Send queues a non-public activity (Accept, Follow, Undo) to inboxes.
func (s *Server) Send(ctx context.Context, activity any, inboxes []string) error {
	body, ok := activity.([]byte)
	if !ok {
		var err error
		if body, err = json.Marshal(activity); err != nil {
			return err
		}
	}
	var head struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &head); err != nil || head.ID == "" {
		return errors.New("federation: send: activity without id")
	}
	return s.queue.Enqueue(ctx, head.ID, body, inboxes)
}

// linkID reads an object reference as an IRI (string or {id}).
func linkID(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &obj)
	return obj.ID
}

func collectionContext() string { return "https://www.w3.org/ns/activitystreams" }

// outboxHandler serves the outbox from memory (outboxindex.go): the
// collection with its count, and pages of PageSize activities, newest
// first, Mastodon's way: max_id for the page below an entry ("next"),
// min_id for the page above one ("prev"; min_id=0 is the oldest page,
// "last").
func (s *Server) outboxHandler(c echo.Context) error {
	if c.Param("name") != s.cfg.Username {
		return echo.NewHTTPError(http.StatusNotFound, "no such actor")
	}
	total := s.outbox.index.len()
	if c.QueryParam("page") == "" {
		return apJSON(c, map[string]any{
			"@context": collectionContext(), "id": s.OutboxID(), "type": "OrderedCollection",
			"totalItems": total, "first": s.OutboxID() + "?page=true",
			"last": s.OutboxID() + pageQuery("min_id", "0"),
		})
	}
	var page outboxPage
	id := s.OutboxID()
	if minID := c.QueryParam("min_id"); minID != "" {
		page = s.outbox.index.above(minID, PageSize)
		id += pageQuery("min_id", minID)
	} else {
		maxID := c.QueryParam("max_id")
		page = s.outbox.index.below(maxID, PageSize)
		id += pageQuery("max_id", maxID)
	}
	items, err := s.outboxBodies(c.Request().Context(), page.keys)
	if err != nil {
		return err
	}
	doc := map[string]any{
		"@context": collectionContext(), "id": id,
		"type": "OrderedCollectionPage", "partOf": s.OutboxID(), "totalItems": total,
		"orderedItems": items,
	}
	if n := len(page.keys); n > 0 {
		doc["prev"] = s.OutboxID() + pageQuery("min_id", page.keys[0].String())
		if page.older {
			doc["next"] = s.OutboxID() + pageQuery("max_id", page.keys[n-1].String())
		}
	}
	return apJSON(c, doc)
}

// outboxBodies reads the activities of a page: from the bodies kept in
// memory, else each by _id, the store's one read that costs the same at
// any size (an "$in" of the ids reads the whole collection on the
// embedded store).
func (s *Server) outboxBodies(ctx context.Context, keys []outboxKey) ([]json.RawMessage, error) {
	coll := s.cfg.DB.Collection("outbox")
	items := make([]json.RawMessage, 0, len(keys))
	for _, k := range keys {
		if body, ok := s.outbox.bodies.get(k); ok {
			items = append(items, body)
			continue
		}
		var e outboxEntry
		err := coll.FindOne(ctx, bson.M{"_id": k.String()}, options.FindOne().SetProjection(bson.M{"raw": 1})).Decode(&e)
		if errors.Is(err, mongo.ErrNoDocuments) {
			// Only a store restored to an older state lacks an entry
			// memory has: serve the others.
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("federation: outbox page: %w", err)
		}
		s.outbox.bodies.put(k, []byte(e.Raw))
		items = append(items, json.RawMessage(e.Raw))
	}
	return items, nil
}

func pageQuery(key, cursor string) string {
	if cursor == "" {
		return "?page=true"
	}
	return "?page=true&" + key + "=" + url.QueryEscape(cursor)
}

func (s *Server) followersHandler(c echo.Context) error {
	if c.Param("name") != s.cfg.Username {
		return echo.NewHTTPError(http.StatusNotFound, "no such actor")
	}
	all := s.followers.sorted()
	if c.QueryParam("page") == "" {
		return apJSON(c, map[string]any{
			"@context": collectionContext(), "id": s.FollowersID(), "type": "OrderedCollection",
			"totalItems": len(all), "first": s.FollowersID() + "?page=true",
		})
	}
	after := c.QueryParam("after")
	var items []string
	next := ""
	for _, f := range all {
		if after != "" && f.Actor <= after {
			continue
		}
		if len(items) == PageSize {
			next = s.FollowersID() + pageQuery("after", items[len(items)-1])
			break
		}
		items = append(items, f.Actor)
	}
	page := map[string]any{
		"@context": collectionContext(), "id": s.FollowersID() + pageQuery("after", after),
		"type": "OrderedCollectionPage", "partOf": s.FollowersID(), "totalItems": len(all),
		"orderedItems": nonNil(items),
	}
	if next != "" {
		page["next"] = next
	}
	return apJSON(c, page)
}

func (s *Server) followingHandler(c echo.Context) error {
	if c.Param("name") != s.cfg.Username {
		return echo.NewHTTPError(http.StatusNotFound, "no such actor")
	}
	all, err := s.FollowingAll(c.Request().Context())
	if err != nil {
		return err
	}
	var items []string
	for _, f := range all {
		if f.State == FollowAccepted {
			items = append(items, f.Actor)
		}
	}
	return apJSON(c, map[string]any{
		"@context": collectionContext(), "id": s.ActorID() + "/following", "type": "OrderedCollection",
		"totalItems": len(items), "orderedItems": nonNil(items),
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) activityHandler(c echo.Context) error {
	var e outboxEntry
	err := s.cfg.DB.Collection("outbox").FindOne(c.Request().Context(), bson.M{"_id": c.Param("id")}).Decode(&e)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return echo.NewHTTPError(http.StatusNotFound, "no such activity")
	}
	if err != nil {
		return err
	}
	c.Response().Header().Add("Vary", "Accept")
	return c.Blob(http.StatusOK, ContentType+"; charset=utf-8", []byte(e.Raw))
}

func apJSON(c echo.Context, v any) error {
	c.Response().Header().Add("Vary", "Accept")
	return jsonAs(c, http.StatusOK, ContentType+"; charset=utf-8", v)
}

func jsonAs(c echo.Context, code int, contentType string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Blob(code, contentType, body)
}

// WalkOutbox pages through a remote actor's outbox, newest first, calling fn
// with each item (an activity, or an IRI string) until fn returns ErrStop,
// the pages end, or maxPages pages were read. Every page is fetched signed
// and must carry its own URL as id.
func (s *Server) WalkOutbox(ctx context.Context, outboxIRI string, maxPages int, fn func(item json.RawMessage) error) error {
	raw, err := s.fetcher.Get(ctx, outboxIRI)
	if err != nil {
		return err
	}
	var coll struct {
		First        json.RawMessage   `json:"first"`
		OrderedItems []json.RawMessage `json:"orderedItems"`
		Next         string            `json:"next"`
	}
	if err := json.Unmarshal(raw, &coll); err != nil {
		return fmt.Errorf("outbox %s: %w", outboxIRI, err)
	}
	page := coll
	if len(coll.First) > 0 {
		if next := linkID(coll.First); next != "" && coll.First[0] == '"' {
			page.OrderedItems, page.Next = nil, next
		} else if err := json.Unmarshal(coll.First, &page); err != nil {
			return fmt.Errorf("outbox %s first page: %w", outboxIRI, err)
		}
	}
	for pages := 0; ; pages++ {
		for _, item := range page.OrderedItems {
			if err := fn(item); err != nil {
				if errors.Is(err, ErrStop) {
					return nil
				}
				return err
			}
		}
		if page.Next == "" || pages >= maxPages {
			return nil
		}
		if !sameOrigin(page.Next, outboxIRI) {
			return fmt.Errorf("outbox %s: next page %s is on another host", outboxIRI, page.Next)
		}
		raw, err := s.fetcher.Get(ctx, page.Next)
		if err != nil {
			return err
		}
		page.OrderedItems, page.Next = nil, ""
		if err := json.Unmarshal(raw, &page); err != nil {
			return fmt.Errorf("outbox page: %w", err)
		}
	}
}

// ErrStop ends WalkOutbox early without an error.
var ErrStop = errors.New("stop walking")

// LastPublished returns, for every object our outbox has an activity
// about, the time of the newest one: what a publisher compares its stored
// objects with to find changes that never went out (a crash between a write
// and its activity). One pass over the outbox.
func (s *Server) LastPublished(ctx context.Context) (map[string]time.Time, error) {
	cur, err := s.cfg.DB.Collection("outbox").Find(ctx, bson.M{},
		options.Find().SetProjection(bson.M{"objectId": 1, "published": 1}))
	if err != nil {
		return nil, fmt.Errorf("federation: outbox: %w", err)
	}
	var entries []outboxEntry
	if err := cur.All(ctx, &entries); err != nil {
		return nil, fmt.Errorf("federation: outbox: %w", err)
	}
	last := make(map[string]time.Time, len(entries))
	for _, e := range entries {
		if e.ObjectID != "" && e.Published.After(last[e.ObjectID]) {
			last[e.ObjectID] = e.Published
		}
	}
	return last, nil
}
