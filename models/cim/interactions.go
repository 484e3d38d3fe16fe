package cim

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/convert"
	"switchboard/models"
	"switchboard/models/events"
)

// Tree is a row of cim_trees: one call (interactions), linked to a contact or not, with its legs.
type Tree struct {
	ID        int64 `gorm:"primaryKey;column:id"`
	CallID    string
	Phone     string // the caller's number as given ("" when none was)
	ContactID *int64
	CreatedAt int64
	UpdatedAt int64
	Legs      []Leg `gorm:"-"`
}

// TableName is the table of interaction trees.
func (Tree) TableName() string { return "cim_trees" }

// Leg is a row of cim_legs: one leg of a call (interactionObject). Its identity within the tree is
// (CallID, InteractionType, AgentID), "" standing for absent; the other fields are nil until saved.
type Leg struct {
	ID              int64 `gorm:"primaryKey;column:id"`
	TreeID          int64
	CallID          string
	InteractionType string
	AgentID         string
	Type            *string
	StartTime       *string
	CallDuration    *string
	IvrTrail        *string
	CallDisposition *string
	TeamName        *string
	Csq             *string
	WrapUp          *string
}

// TableName is the table of interaction legs.
func (Leg) TableName() string { return "cim_legs" }

// LegInput is a leg as a client sends it; nil is absent.
type LegInput struct {
	Type, AgentID, StartTime, CallDuration, IvrTrail, CallID, CallDisposition, TeamName, Csq, InteractionType, WrapUp *string
}

// SaveInteraction creates or updates the tree of call callID and the leg in (ambiguity 27): the first save
// of a call creates its tree, with ani as its number; a tree not linked yet is linked to the contact that
// has ani (by digits). The leg whose identity in has is updated with the fields in sends, or added. Saving
// the same input again changes nothing.
func SaveInteraction(ctx context.Context, db *gorm.DB, callID, ani string, in LegInput) (*Leg, error) {
	var leg *Leg
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		t, err := treeOf(tx, callID, ani)
		if err != nil {
			return err
		}
		if t.ContactID == nil && ani != "" {
			cid, err := contactOfNumber(tx, ani)
			switch {
			case err == nil:
				if err := link(tx, t, cid); err != nil {
					return err
				}
			case models.KindOf(err) != models.NotFound:
				return err
			}
		}
		legCall := callID
		if in.CallID != nil && *in.CallID != "" {
			legCall = *in.CallID
		}
		leg, err = upsertLeg(tx, t.ID, legCall, convert.Deref(in.InteractionType), convert.Deref(in.AgentID), func(l *Leg) {
			for _, f := range []struct{ to, from **string }{{&l.Type, &in.Type}, {&l.StartTime, &in.StartTime},
				{&l.CallDuration, &in.CallDuration}, {&l.IvrTrail, &in.IvrTrail}, {&l.CallDisposition, &in.CallDisposition},
				{&l.TeamName, &in.TeamName}, {&l.Csq, &in.Csq}, {&l.WrapUp, &in.WrapUp}} {
				if *f.from != nil {
					*f.to = *f.from
				}
			}
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return leg, nil
}

// LoadInteractions answers a page of the trees linked to contact id, newest first, each with its legs in
// the order they were first saved.
func LoadInteractions(ctx context.Context, db *gorm.DB, contactID int64, lq models.ListQuery) (models.PageOf[Tree], error) {
	tx := db.WithContext(ctx)
	var n int64
	if err := tx.Model(&contactRow{}).Where("id = ?", contactID).Count(&n).Error; err != nil {
		return models.PageOf[Tree]{}, err
	}
	if n == 0 {
		return models.PageOf[Tree]{}, notFound("contact", contactID)
	}
	lq.After = nil // offset paging only: the order is descending
	page, err := models.List(ctx, tx.Model(&Tree{}), "id DESC", lq, func(t *Tree) int64 { return t.ID },
		models.Equal("contact_id", &contactID))
	if err != nil || len(page.Items) == 0 {
		return page, err
	}
	ids := make([]int64, len(page.Items))
	at := make(map[int64]int, len(page.Items))
	for i, t := range page.Items {
		ids[i], at[t.ID] = t.ID, i
	}
	var legs []Leg
	if err := tx.Where("tree_id IN ?", ids).Order("id").Find(&legs).Error; err != nil {
		return page, err
	}
	for _, l := range legs {
		t := &page.Items[at[l.TreeID]]
		t.Legs = append(t.Legs, l)
	}
	return page, nil
}

// RecordCall is CIM's events.Sink: it records a call event on the contact the mapping finds (see
// FindCallContact) as the leg of the call's tree (the tree of e.UniqueID, its number e.Phone) for the
// event's agent: interaction_type AGENT with agentId, or IVR when the event names no agent; type INBOUND
// or OUTBOUND; start_time when the leg was first seen; call_duration, in whole seconds, once the call has
// ended. A tree not linked yet is linked to that contact; a linked one keeps its contact. When no contact
// (or more than one) matches, nothing is recorded and the event goes on: only a store failure is an error.
func RecordCall(ctx context.Context, tx *gorm.DB, e events.CallEvent) error {
	tx = tx.WithContext(ctx)
	cid, ok, err := findCallContact(tx, e)
	if err != nil || !ok {
		return err
	}
	at := e.ReceivedAt
	if at.IsZero() {
		at = now()
	}
	t, err := treeOf(tx, e.UniqueID, e.Phone)
	if err != nil {
		return err
	}
	if t.ContactID == nil {
		if err := link(tx, t, cid); err != nil {
			return err
		}
	}
	kind, dir := "IVR", strings.ToUpper(e.Direction)
	if e.Agent != "" {
		kind = "AGENT"
	}
	_, err = upsertLeg(tx, t.ID, e.UniqueID, kind, e.Agent, func(l *Leg) {
		if l.Type == nil {
			l.Type = &dir
		}
		if l.StartTime == nil {
			s := at.UTC().Format(time.RFC3339)
			l.StartTime = &s
		}
		if e.State == events.Ended {
			secs := int64(0)
			if start, err := time.Parse(time.RFC3339, *l.StartTime); err == nil && at.After(start) {
				secs = int64(at.Sub(start) / time.Second)
			}
			d := strconv.FormatInt(secs, 10)
			l.CallDuration = &d
		}
	})
	return err
}

// FindCallContact answers the one contact the mapping finds for a call event: each condition whose call
// data the event carries is a search term (ani: the event's phone; callVariable N: the variable
// callVariableN; eccVariable: the variable callVariable names), ANDed as Search ANDs them. With no such
// condition the term is the event's phone against every phone attribute. ok is false when no contact or
// several match, or a term's value cannot match its attribute.
func FindCallContact(ctx context.Context, db *gorm.DB, e events.CallEvent) (id int64, ok bool, err error) {
	return findCallContact(db.WithContext(ctx), e)
}

func findCallContact(tx *gorm.DB, e events.CallEvent) (int64, bool, error) {
	var conds []Mapping
	if err := tx.Order("id").Find(&conds).Error; err != nil {
		return 0, false, err
	}
	terms := Values{}
	for _, m := range conds {
		v := e.Phone
		if m.CallVar != SourceANI {
			v = e.Variables[m.Variable()]
		}
		if v != "" {
			terms[m.Key] = v
		}
	}
	if len(terms) == 0 {
		if e.Phone == "" {
			return 0, false, nil
		}
		terms[KeyPhone] = e.Phone
	}
	s, err := loadSchema(tx, false)
	if err != nil {
		return 0, false, err
	}
	where, err := s.termsWhere(terms)
	if models.KindOf(err) == models.Invalid {
		return 0, false, nil // call data that no contact can have
	} else if err != nil {
		return 0, false, err
	}
	page, err := models.List(tx.Statement.Context, tx.Model(&contactRow{}), "cim_contacts.id", models.ListQuery{Limit: 2},
		func(r *contactRow) int64 { return r.ID }, where...)
	if err != nil || len(page.Items) != 1 {
		return 0, false, err
	}
	return page.Items[0].ID, true, nil
}

// treeOf answers the tree of call callID, created (with phone as its number) when there is none. A tree
// without a number takes phone. Its updated_at is now.
func treeOf(tx *gorm.DB, callID, phone string) (*Tree, error) {
	var t Tree
	err := tx.Where("call_id = ?", callID).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		var id int64
		if id, err = allocID(tx, kindTrees); err != nil {
			return nil, err
		}
		n := now().Unix()
		t = Tree{ID: id, CallID: callID, Phone: phone, CreatedAt: n, UpdatedAt: n}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&t)
		if res.Error != nil || res.RowsAffected == 1 {
			return &t, res.Error
		}
		// A concurrent save created it meanwhile (the counter's lock made this one wait for its commit).
		t = Tree{} // a primary key in the destination would be a condition of Take
		err = tx.Where("call_id = ?", callID).Take(&t).Error
	}
	if err != nil {
		return nil, err
	}
	set := map[string]any{"updated_at": now().Unix()}
	if t.Phone == "" && phone != "" {
		t.Phone, set["phone"] = phone, phone
	}
	return &t, tx.Model(&Tree{}).Where("id = ?", t.ID).Updates(set).Error
}

// link links an unlinked tree to contact cid (never re-links a linked one).
func link(tx *gorm.DB, t *Tree, cid int64) error {
	res := tx.Model(&Tree{}).Where("id = ? AND contact_id IS NULL", t.ID).Update("contact_id", cid)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 1 {
		t.ContactID = &cid
		return nil
	}
	return tx.Where("id = ?", t.ID).Take(t).Error // linked meanwhile: answer the link it has
}

// upsertLeg answers the leg of the tree with the identity, after apply changed it; a new leg is added.
func upsertLeg(tx *gorm.DB, treeID int64, callID, kind, agent string, apply func(*Leg)) (*Leg, error) {
	identity := func(q *gorm.DB) *gorm.DB {
		return q.Where("tree_id = ? AND call_id = ? AND interaction_type = ? AND agent_id = ?", treeID, callID, kind, agent)
	}
	var l Leg
	err := identity(tx).Take(&l).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		var id int64
		if id, err = allocID(tx, kindLegs); err != nil {
			return nil, err
		}
		l = Leg{ID: id, TreeID: treeID, CallID: callID, InteractionType: kind, AgentID: agent}
		apply(&l)
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&l)
		if res.Error != nil || res.RowsAffected == 1 {
			return &l, res.Error
		}
		// Added meanwhile: update it below. (A primary key in the destination would be a condition of Take.)
		l = Leg{}
		err = identity(tx).Take(&l).Error
	}
	if err != nil {
		return nil, err
	}
	apply(&l)
	err = tx.Model(&Leg{}).Where("id = ?", l.ID).Updates(map[string]any{"type": l.Type, "start_time": l.StartTime,
		"call_duration": l.CallDuration, "ivr_trail": l.IvrTrail, "call_disposition": l.CallDisposition,
		"team_name": l.TeamName, "csq": l.Csq, "wrap_up": l.WrapUp}).Error
	return &l, err
}

var _ events.Sink = RecordCall
