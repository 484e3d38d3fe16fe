package accolades

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// One connection per CRM id across nodes (the document's CONNECTION_EXISTS): the node that accepts a CRM's
// authRequest takes the CRM id's lease, a row naming the node and the connection (token), and keeps it
// while the connection lives by renewing every lease it holds in one statement (its heartbeat). Another
// node's authRequest for the same CRM id takes the lease only once it has expired: the holder's
// connection ended (its lease is deleted then), or the holder stopped renewing (a crashed node's leases
// expire after LeaseTTL). A node that finds one of its leases gone (the agent was deleted) or taken (it
// missed its renewals for LeaseTTL) closes that connection.

// Lease timing: a node renews every LeaseRenew; a lease not renewed for LeaseTTL is free.
const (
	LeaseRenew = 10 * time.Second
	LeaseTTL   = 30 * time.Second
)

// lease is a row of accolades_leases.
type lease struct {
	CrmID     string `gorm:"column:crm_id;primaryKey"`
	Node      string
	Token     string
	ExpiresAt int64
}

func (lease) TableName() string { return "accolades_leases" }

// Leases are one node's leases.
type Leases struct {
	db   *gorm.DB
	node string
	ttl  time.Duration
}

// NewLeases answers the leases of node (a random id, unique to the process) that last ttl unrenewed (0:
// LeaseTTL).
func NewLeases(db *gorm.DB, node string, ttl time.Duration) *Leases {
	if ttl <= 0 {
		ttl = LeaseTTL
	}
	return &Leases{db: db, node: node, ttl: ttl}
}

// Node answers the node id the leases carry.
func (l *Leases) Node() string { return l.node }

// Acquire takes the lease of crm for the connection token, unless another node holds it unexpired (then
// ok is false). The node's own lease of crm is taken over: the caller decided its connection is gone.
func (l *Leases) Acquire(ctx context.Context, crm, token string, now time.Time) (ok bool, err error) {
	res := l.db.WithContext(ctx).Exec(`INSERT INTO accolades_leases (crm_id, node, token, expires_at) VALUES (?, ?, ?, ?)
ON CONFLICT (crm_id) DO UPDATE SET node = excluded.node, token = excluded.token, expires_at = excluded.expires_at
WHERE accolades_leases.expires_at < ? OR accolades_leases.node = ?`,
		crm, l.node, token, now.Add(l.ttl).UnixMilli(), now.UnixMilli(), l.node)
	return res.RowsAffected == 1, res.Error
}

// Release gives up the lease of crm if connection token still holds it.
func (l *Leases) Release(ctx context.Context, crm, token string) error {
	return l.db.WithContext(ctx).Where("crm_id = ? AND token = ?", crm, token).Delete(&lease{}).Error
}

// ReleaseAll gives up every lease of the node (on shutdown).
func (l *Leases) ReleaseAll(ctx context.Context) error {
	return l.db.WithContext(ctx).Where("node = ?", l.node).Delete(&lease{}).Error
}

// Renew extends every lease of the node and answers the ones it still holds, CRM id → token. A lease the
// node thinks it holds but that is missing was deleted with its agent; one with another token was taken.
func (l *Leases) Renew(ctx context.Context, now time.Time) (map[string]string, error) {
	db := l.db.WithContext(ctx)
	if err := db.Model(&lease{}).Where("node = ?", l.node).Update("expires_at", now.Add(l.ttl).UnixMilli()).Error; err != nil {
		return nil, err
	}
	var rows []lease
	if err := db.Select("crm_id", "token").Where("node = ?", l.node).Find(&rows).Error; err != nil {
		return nil, err
	}
	held := make(map[string]string, len(rows))
	for _, r := range rows {
		held[r.CrmID] = r.Token
	}
	return held, nil
}

// Holder answers which node holds the lease of crm, if any (tests, diagnostics).
func Holder(ctx context.Context, db *gorm.DB, crm string) (node string, err error) {
	var rows []lease
	err = db.WithContext(ctx).Where("crm_id = ?", crm).Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return "", err
	}
	return rows[0].Node, nil
}
