// Package ucontact holds the rows of the uContact Integra API (openapi/ucontact.yaml): its users
// (supervisors and agents) and their sessions (the API keys), campaigns, calls (two-step calls and the
// dialer's records), uploaded bases, dispositions and SMS.
//
// uContact users live in a table of their own, not in the users table (models/identity), although DESIGN
// §4 foresaw one table for every API's people. The users table is ICTCore's login namespace: every row
// of it logs in to ICTCore (password, HTTP Basic, token) and is listed, changed and deleted by ICTCore's
// /users routes, with no notion of "whose" user it is. A uContact agent there would be an ICTCore user
// too, and keeping it out of ICTCore would need a filter in every identity query; a uContact name ("9999",
// "Admin") would also collide with ICTCore's logins ("admin"). uContact users need the SIP peer's fields
// (extension, context, logged-in state) besides. So, as Collect!'s operators, they are their own table,
// with their role (supervisor or agent) as a column; what they share with every API is the identity
// machinery: bcrypt hashes (auth.HashPassword) and the one login guard (identity.GuardedCheck).
package ucontact

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/auth"
	"switchboard/models"
)

// Roles, and the channels of a campaign.
const (
	RoleSupervisor = "supervisor"
	RoleAgent      = "agent"

	ChannelTelephony = "telephony"
	ChannelSMS       = "sms"
)

// DefaultContext is an agent's dialplan context when none is given (the vendor's 'agentes').
const DefaultContext = "agentes"

// User is a row of ucontact_users: a supervisor or an agent.
type User struct {
	ID            int64 `gorm:"primaryKey;column:id"`
	Name          string
	Role          string
	PasswordHash  string
	Fullname      string
	Email         string
	Phone         string
	Context       string
	LoggedIn      bool
	Interface     string
	LogoffMessage string
	LoginAt       int64
	LogoffAt      int64
	CreatedAt     int64
	UpdatedAt     int64
}

// TableName is the table of uContact users.
func (User) TableName() string { return "ucontact_users" }

// UserInput is what a new user is made of.
type UserInput struct {
	Name, Role, Password            string
	Fullname, Email, Phone, Context string
}

// userName is what a name may be: it goes into the API key (`name:uuid`), so never a colon.
var userName = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

func userNotFound(id int64) error {
	return models.Errorf(models.NotFound, "uContact user %d not found", id)
}

// CreateUser stores a supervisor or an agent with a bcrypt hash of its password; a taken name is a
// Conflict.
func CreateUser(ctx context.Context, db *gorm.DB, in UserInput) (*User, error) {
	switch {
	case !userName.MatchString(in.Name):
		return nil, models.Errorf(models.Invalid, "name %q: want 1 to 64 letters, digits or . _ @ -", in.Name)
	case in.Role != RoleSupervisor && in.Role != RoleAgent:
		return nil, models.Errorf(models.Invalid, "role %q: want %s or %s", in.Role, RoleSupervisor, RoleAgent)
	case in.Password == "" || len(in.Password) > 72:
		return nil, models.Errorf(models.Invalid, "a password must have 1 to 72 bytes")
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	if in.Context == "" {
		in.Context = DefaultContext
	}
	now := time.Now().Unix()
	u := &User{Name: in.Name, Role: in.Role, PasswordHash: hash, Fullname: in.Fullname, Email: in.Email, Phone: in.Phone,
		Context: in.Context, CreatedAt: now, UpdatedAt: now}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&User{}).Where("name = ?", in.Name).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return models.Errorf(models.Conflict, "a uContact user named %q exists already", in.Name)
		}
		return tx.Create(u).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) { // a concurrent create won the race
		return nil, models.Wrap(models.Conflict, err, "a uContact user named "+strconv.Quote(in.Name)+" exists already")
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// ListUsers answers one page of users in id order, of one role when role is set.
func ListUsers(ctx context.Context, db *gorm.DB, role *string, lq models.ListQuery) (models.PageOf[User], error) {
	return models.List(ctx, db.Model(&User{}), "id", lq, func(u *User) int64 { return u.ID }, models.Equal("role", role))
}

// GetUser loads user id.
func GetUser(ctx context.Context, db *gorm.DB, id int64) (*User, error) {
	return models.TakeOne[User](db.WithContext(ctx).Where("id = ?", id), func() error { return userNotFound(id) })
}

// FindUser loads the user named name (NotFound when none is).
func FindUser(ctx context.Context, db *gorm.DB, name string) (*User, error) {
	return models.TakeOne[User](db.WithContext(ctx).Where("name = ?", name),
		func() error { return models.Errorf(models.NotFound, "uContact user %q not found", name) })
}

// FindAgent loads the agent named name: a supervisor of that name is not an agent (NotFound).
func FindAgent(ctx context.Context, db *gorm.DB, name string) (*User, error) {
	u, err := FindUser(ctx, db, name)
	if err == nil && u.Role != RoleAgent {
		return nil, models.Errorf(models.NotFound, "agent %q not found", name)
	}
	if models.KindOf(err) == models.NotFound {
		return nil, models.Errorf(models.NotFound, "agent %q not found", name)
	}
	return u, err
}

// DeleteUser deletes user id and its sessions in one transaction: its API keys answer 401 from then on.
// What the user made (calls, dispositions, SMS) stays, as records.
func DeleteUser(ctx context.Context, db *gorm.DB, id int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("id = ?", id).Delete(&User{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return userNotFound(id)
		}
		return tx.Where("user_id = ?", id).Delete(&Session{}).Error
	})
}

// Campaign is a row of ucontact_campaigns.
type Campaign struct {
	ID        int64 `gorm:"primaryKey;column:id"`
	Name      string
	Channel   string
	CallerID  string `gorm:"column:callerid"`
	CreatedAt int64
}

// TableName is the table of uContact campaigns.
func (Campaign) TableName() string { return "ucontact_campaigns" }

func campaignNotFound(id int64) error {
	return models.Errorf(models.NotFound, "uContact campaign %d not found", id)
}

// callerID is what a campaign's caller id may be.
var callerID = regexp.MustCompile(`^\+?[0-9]{0,31}$`)

// CreateCampaign stores a campaign of the channel (empty: telephony); a taken name is a Conflict.
func CreateCampaign(ctx context.Context, db *gorm.DB, name, channel, callerid string) (*Campaign, error) {
	if channel == "" {
		channel = ChannelTelephony
	}
	switch {
	case name == "" || len(name) > 255:
		return nil, models.Errorf(models.Invalid, "a campaign's name must have 1 to 255 bytes")
	case channel != ChannelTelephony && channel != ChannelSMS:
		return nil, models.Errorf(models.Invalid, "channel %q: want %s or %s", channel, ChannelTelephony, ChannelSMS)
	case !callerID.MatchString(callerid):
		return nil, models.Errorf(models.Invalid, "callerid %q: want digits, with an optional leading +", callerid)
	}
	c := &Campaign{Name: name, Channel: channel, CallerID: callerid, CreatedAt: time.Now().Unix()}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Campaign{}).Where("name = ?", name).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return models.Errorf(models.Conflict, "a uContact campaign named %q exists already", name)
		}
		return tx.Create(c).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, models.Wrap(models.Conflict, err, "a uContact campaign named "+strconv.Quote(name)+" exists already")
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ListCampaigns answers one page of campaigns in id order.
func ListCampaigns(ctx context.Context, db *gorm.DB, lq models.ListQuery) (models.PageOf[Campaign], error) {
	return models.List(ctx, db.Model(&Campaign{}), "id", lq, func(c *Campaign) int64 { return c.ID })
}

// FindCampaign loads the campaign named name of the channel; one of another channel is NotFound too, as
// the services answer a campaign they cannot use.
func FindCampaign(ctx context.Context, db *gorm.DB, name, channel string) (*Campaign, error) {
	return models.TakeOne[Campaign](db.WithContext(ctx).Where("name = ? AND channel = ?", name, channel),
		func() error { return models.Errorf(models.NotFound, "no %s campaign named %q", channel, name) })
}

// DeleteCampaign deletes campaign id and cancels, in the same transaction, its calls and SMS still waiting
// for the dialer: their jobs find them canceled and do nothing.
func DeleteCampaign(ctx context.Context, db *gorm.DB, id int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Where("id = ?", id)
		if models.IsPostgres(tx) {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var c Campaign
		if err := q.Take(&c).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return campaignNotFound(id)
		} else if err != nil {
			return err
		}
		now := time.Now().Unix()
		if err := tx.Model(&Call{}).Where("campaign_id = ? AND status = ?", id, CallPending).
			Updates(map[string]any{"status": CallCanceled, "reason": "campaign deleted", "dialed_at": now}).Error; err != nil {
			return err
		}
		if err := tx.Model(&SMS{}).Where("campaign_id = ? AND status = ?", id, SMSQueued).
			Updates(map[string]any{"status": SMSCanceled, "reason": "campaign deleted", "sent_at": now}).Error; err != nil {
			return err
		}
		return tx.Delete(&c).Error
	})
}
