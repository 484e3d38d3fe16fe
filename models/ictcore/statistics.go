package ictcore

import (
	"context"

	"gorm.io/gorm"
)

// Statistics are ICTCore's counters (GET /statistics).
type Statistics struct {
	Users, Accounts                             int64
	Campaigns, CampaignsActive                  int64
	Groups, Contacts                            int64
	Transmissions, TransmissionsActive          int64
	TransmissionsInbound, TransmissionsOutbound int64
	Spools, SpoolsCompleted, SpoolsFailed       int64
}

// StatisticsFilter narrows the counters: rows created at or after Since, of one user, transmissions and
// spools of one service (bitmask bits), accounts of one type.
type StatisticsFilter struct {
	Since       *int64
	UserID      *int64
	ServiceFlag *int
	AccountType *string
}

// GetStatistics counts what the owner may see. Campaigns come with the dialer: until a campaigns table
// exists they count 0. Each counter is one COUNT over an indexed column or a small table.
func GetStatistics(ctx context.Context, db *gorm.DB, o Owner, f StatisticsFilter) (*Statistics, error) {
	db = db.WithContext(ctx)
	var s Statistics
	count := func(dst *int64, tableName, owner, created string, extra func(*gorm.DB) *gorm.DB) error {
		q := db.Table(tableName)
		if owner != "" {
			q = o.scopeOn(owner)(q)
			if f.UserID != nil {
				q = q.Where(owner+" = ?", *f.UserID)
			}
		}
		if f.Since != nil && created != "" {
			q = q.Where(created+" >= ?", *f.Since)
		}
		if extra != nil {
			q = extra(q)
		}
		return q.Count(dst).Error
	}
	service := func(q *gorm.DB) *gorm.DB {
		if f.ServiceFlag == nil {
			return q
		}
		return q.Where("(service_flag & ?) = ?", *f.ServiceFlag, *f.ServiceFlag)
	}
	where := func(cond string, args ...any) func(*gorm.DB) *gorm.DB {
		return func(q *gorm.DB) *gorm.DB { return service(q).Where(cond, args...) }
	}
	users := func(q *gorm.DB) *gorm.DB {
		if o != AnyOwner {
			q = q.Where("user_id = ?", int64(o)) // a user counts itself
		}
		if f.UserID != nil {
			q = q.Where("user_id = ?", *f.UserID)
		}
		return q
	}
	accounts := func(q *gorm.DB) *gorm.DB {
		if f.AccountType != nil {
			q = q.Where("type = ?", *f.AccountType)
		}
		return q
	}
	for _, c := range []struct {
		dst                   *int64
		table, owner, created string
		extra                 func(*gorm.DB) *gorm.DB
	}{
		{&s.Users, "users", "", "created_at", users},
		{&s.Accounts, "accounts", "user_id", "created_at", accounts},
		{&s.Groups, "contact_groups", "user_id", "created_at", nil},
		{&s.Contacts, "contacts", "user_id", "created_at", visible},
		{&s.Transmissions, "transmissions", "user_id", "created_at", service},
		{&s.TransmissionsActive, "transmissions", "user_id", "created_at", where("status = ?", StatusProcessing)},
		{&s.TransmissionsInbound, "transmissions", "user_id", "created_at", where("direction = ?", "inbound")},
		{&s.TransmissionsOutbound, "transmissions", "user_id", "created_at", where("direction = ?", "outbound")},
		{&s.Spools, "spools", "user_id", "time_spool", service},
		{&s.SpoolsCompleted, "spools", "user_id", "time_spool", where("status = ?", SpoolCompleted)},
		{&s.SpoolsFailed, "spools", "user_id", "time_spool", where("status IN ?", []string{SpoolFailed, SpoolInvalid})},
	} {
		if err := count(c.dst, c.table, c.owner, c.created, c.extra); err != nil {
			return nil, err
		}
	}
	return &s, nil
}
