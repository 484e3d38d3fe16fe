package models

import "gorm.io/gorm"

// Step 24: the Accolades CRM (issue 10). accolades_accounts are the accounts of the REST API (the path's
// account number and the API password's bcrypt hash) with their configuration text; accolades_agents are the
// agents a CRM authenticates as over the WebSocket (a random CRM id, unique; the phone's device id, unique
// like every entity id of the vendor document; an optional IP allow-list; the agent's and the phone's
// configuration texts). Agents are not users: they never sign in with a password, and ICTCore's /users must
// not list or log them in (see models/accolades). accolades_leases hold which node's connection owns a CRM
// id (one connection per CRM id across nodes), renewed by that node's heartbeat. No foreign keys, as
// elsewhere: an account with agents is not deleted, an agent's lease goes with it. Times are unix seconds
// (a lease's expiry in milliseconds).
type accoladesAccountV24 struct {
	ID            int64  `gorm:"primaryKey;column:id"`
	AccountNumber string `gorm:"size:20;not null;uniqueIndex"`
	Name          string `gorm:"size:128;not null;default:''"`
	PasswordHash  string `gorm:"size:255;not null"`
	Data          string `gorm:"type:text;not null"`
	CreatedAt     int64  `gorm:"not null"`
}

func (accoladesAccountV24) TableName() string { return "accolades_accounts" }

type accoladesAgentV24 struct {
	ID         int64  `gorm:"primaryKey;column:id"`
	AccountID  int64  `gorm:"not null;index"`
	Name       string `gorm:"size:128;not null"`
	CrmID      string `gorm:"column:crm_id;size:64;not null;uniqueIndex"`
	DeviceID   string `gorm:"size:20;not null;uniqueIndex"`
	AllowedIPs string `gorm:"column:allowed_ips;type:text;not null"` // comma-separated addresses and CIDR prefixes; empty: any
	Data       string `gorm:"type:text;not null"`
	PhoneData  string `gorm:"type:text;not null"`
	CreatedAt  int64  `gorm:"not null"`
}

func (accoladesAgentV24) TableName() string { return "accolades_agents" }

type accoladesLeaseV24 struct {
	CrmID     string `gorm:"column:crm_id;primaryKey;size:64"`
	Node      string `gorm:"size:32;not null;index"`
	Token     string `gorm:"size:32;not null"`
	ExpiresAt int64  `gorm:"not null"` // unix milliseconds
}

func (accoladesLeaseV24) TableName() string { return "accolades_leases" }

func migrateV24(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&accoladesAccountV24{}, &accoladesAgentV24{}, &accoladesLeaseV24{})
}
