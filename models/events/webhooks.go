package events

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/models"
)

// Webhook formats: FormatSwitchboard posts the event as JSON (the contract's CallEvent); FormatAccolades
// posts the form values of Accolades' call-notification API (answered and ended events only).
const (
	FormatSwitchboard = "switchboard"
	FormatAccolades   = "accolades"
)

// Limits of a subscription's fields (openapi/platform.yaml states the same).
const (
	MaxURL            = 2048
	MinSecret         = 16
	MaxSecret         = 128
	MaxDescription    = 255
	MaxFilterAgents   = 100
	generatedSecretID = "whsec_"
)

// Subscription is a row of webhook_subscriptions (migration step 25): where to post which call events,
// signed with Secret. Empty filter lists match any value. Times are unix seconds.
type Subscription struct {
	ID          int64 `gorm:"primaryKey;column:id"`
	URL         string
	Secret      string
	Format      string
	Description string
	States      []string `gorm:"serializer:json"`
	Directions  []string `gorm:"serializer:json"`
	Agents      []string `gorm:"serializer:json"`
	Active      bool
	CreatedAt   int64
	UpdatedAt   int64
}

// TableName is the table of webhook subscriptions.
func (Subscription) TableName() string { return "webhook_subscriptions" }

// Matches tells whether the subscription wants e: active, e's state, direction and agent in its filter
// (an empty list matches any), and for the Accolades format a state it has an event for.
func (s *Subscription) Matches(e CallEvent) bool {
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	if !s.Active || !in(s.States, e.State) || !in(s.Directions, e.Direction) || !in(s.Agents, e.Agent) {
		return false
	}
	return s.Format != FormatAccolades || e.State != Ringing
}

// SubscriptionFields are a subscription's writable fields; nil leaves one as it is (on create: a generated
// secret, the switchboard format, no description, empty filters, active).
type SubscriptionFields struct {
	URL, Secret, Format, Description *string
	States, Directions, Agents       *[]string
	Active                           *bool
}

func webhookNotFound(id int64) error {
	return models.Errorf(models.NotFound, "webhook %d not found", id)
}

func (f SubscriptionFields) apply(s *Subscription) error {
	if f.URL != nil {
		s.URL = *f.URL
	}
	if f.Secret != nil {
		s.Secret = *f.Secret
	}
	if f.Format != nil {
		s.Format = *f.Format
	}
	if f.Description != nil {
		s.Description = *f.Description
	}
	if f.States != nil {
		s.States = dedupe(*f.States)
	}
	if f.Directions != nil {
		s.Directions = dedupe(*f.Directions)
	}
	if f.Agents != nil {
		s.Agents = dedupe(*f.Agents)
	}
	if f.Active != nil {
		s.Active = *f.Active
	}
	return s.validate()
}

func dedupe(list []string) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (s *Subscription) validate() error {
	u, err := url.Parse(s.URL)
	switch {
	case len(s.URL) > MaxURL || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return models.Errorf(models.Invalid, "url %q: want an absolute http or https URL of at most %d bytes", s.URL, MaxURL)
	case u.User != nil:
		return models.Errorf(models.Invalid, "url: credentials in the URL are not taken (the deliveries are signed)")
	case utf8.RuneCountInString(s.Secret) < MinSecret || utf8.RuneCountInString(s.Secret) > MaxSecret:
		return models.Errorf(models.Invalid, "secret must have %d to %d characters", MinSecret, MaxSecret)
	case s.Format != FormatSwitchboard && s.Format != FormatAccolades:
		return models.Errorf(models.Invalid, "format %q: want %s or %s", s.Format, FormatSwitchboard, FormatAccolades)
	case utf8.RuneCountInString(s.Description) > MaxDescription:
		return models.Errorf(models.Invalid, "description must have at most %d characters", MaxDescription)
	case len(s.Agents) > MaxFilterAgents:
		return models.Errorf(models.Invalid, "at most %d agents in a filter", MaxFilterAgents)
	}
	for _, st := range s.States {
		if st != Ringing && st != Answered && st != Ended {
			return models.Errorf(models.Invalid, "states: %q is not a call state", st)
		}
	}
	for _, d := range s.Directions {
		if d != Inbound && d != Outbound {
			return models.Errorf(models.Invalid, "directions: %q is not a direction", d)
		}
	}
	for _, a := range s.Agents {
		if a == "" || utf8.RuneCountInString(a) > MaxAgent {
			return models.Errorf(models.Invalid, "agents: an agent has 1 to %d characters", MaxAgent)
		}
	}
	return nil
}

// NewSecret answers a generated signing secret: "whsec_" and 32 random bytes, base64url.
func NewSecret() (string, error) {
	r, err := auth.RandomSecret(32)
	if err != nil {
		return "", err
	}
	return generatedSecretID + r, nil
}

// CreateSubscription stores a new subscription and answers it with its secret (generated when f has
// none): the one time the secret is answered.
func CreateSubscription(ctx context.Context, db *gorm.DB, f SubscriptionFields) (*Subscription, error) {
	now := time.Now().Unix()
	s := &Subscription{Format: FormatSwitchboard, Active: true, States: []string{}, Directions: []string{}, Agents: []string{},
		CreatedAt: now, UpdatedAt: now}
	if f.Secret == nil {
		secret, err := NewSecret()
		if err != nil {
			return nil, err
		}
		s.Secret = secret
	}
	if err := f.apply(s); err != nil {
		return nil, err
	}
	if err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return tx.Create(s).Error }); err != nil {
		return nil, err
	}
	return s, nil
}

// GetSubscription loads subscription id.
func GetSubscription(ctx context.Context, db *gorm.DB, id int64) (*Subscription, error) {
	return models.TakeOne[Subscription](db.WithContext(ctx).Where("id = ?", id),
		func() error { return webhookNotFound(id) })
}

// ListSubscriptions answers one page of subscriptions in id order.
func ListSubscriptions(ctx context.Context, db *gorm.DB, lq models.ListQuery) (models.PageOf[Subscription], error) {
	return models.List(ctx, db.Model(&Subscription{}), "id", lq, func(s *Subscription) int64 { return s.ID })
}

// UpdateSubscription changes what f names and answers the subscription. Deliveries already queued keep
// going to the subscription as it is when each attempt is made.
func UpdateSubscription(ctx context.Context, db *gorm.DB, id int64, f SubscriptionFields) (*Subscription, error) {
	var s Subscription
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Where("id = ?", id).Take(&s).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return webhookNotFound(id)
		}
		if err != nil {
			return err
		}
		if err := f.apply(&s); err != nil {
			return err
		}
		s.UpdatedAt = time.Now().Unix()
		return tx.Select("*").Updates(&s).Error
	})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// DeleteSubscription deletes a subscription with its delivery log, in one transaction. Its deliveries
// still queued find it gone and end without an attempt.
func DeleteSubscription(ctx context.Context, db *gorm.DB, id int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("id = ?", id).Delete(&Subscription{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return webhookNotFound(id)
		}
		return tx.Where("webhook_id = ?", id).Delete(&Delivery{}).Error
	})
}

// Subscribers answers the active subscriptions that want e, in id order (in the transaction recording
// it: the webhook sink).
func Subscribers(tx *gorm.DB, e CallEvent) ([]Subscription, error) {
	var all []Subscription
	if err := tx.Where("active = ?", true).Order("id").Find(&all).Error; err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(s Subscription) bool { return !s.Matches(e) }), nil
}
