package models

import "gorm.io/gorm"

// Step 17: Collect! databases, their operators, and the operators' login sessions. Every Collect! row
// carries its database's id (DESIGN §4), and models/collect scopes every query by it (collect.Scope). No
// foreign keys, as elsewhere: the model refuses to delete a database that still has operators and deletes
// an operator's sessions with it. Operator columns are named as Collect!'s nx_operator record names them
// (op_id is the login). Times are unix seconds.
type collectDatabaseV17 struct {
	ID        int64  `gorm:"primaryKey;column:id"`
	Name      string `gorm:"size:64;not null;uniqueIndex"`
	CreatedAt int64  `gorm:"not null"`
}

func (collectDatabaseV17) TableName() string { return "collect_databases" }

type collectOperatorV17 struct {
	ID           int64  `gorm:"primaryKey;column:id"`
	DatabaseID   int64  `gorm:"not null;uniqueIndex:idx_collect_operators_login,priority:1"`
	OpID         string `gorm:"column:op_id;size:32;not null;uniqueIndex:idx_collect_operators_login,priority:2"`
	OpName       string `gorm:"column:op_name;size:255;not null;default:''"`
	OpLevel      int32  `gorm:"column:op_level;not null;default:0"`
	OpFunction   int32  `gorm:"column:op_function;not null;default:0"`
	PasswordHash string `gorm:"size:255;not null"`
	Active       bool   `gorm:"not null;default:true"`
	CreatedAt    int64  `gorm:"not null"`
	UpdatedAt    int64  `gorm:"not null"`
}

func (collectOperatorV17) TableName() string { return "collect_operators" }

// collectSessionV17 is one login: the SHA-256 of its current access and refresh tokens (a refresh replaces
// both; a logout deletes the row), so revocation holds on every node.
type collectSessionV17 struct {
	ID               int64  `gorm:"primaryKey;column:id"`
	DatabaseID       int64  `gorm:"not null"`
	OperatorID       int64  `gorm:"not null;index"`
	AccessHash       string `gorm:"size:64;not null;uniqueIndex"`
	RefreshHash      string `gorm:"size:64;not null;uniqueIndex"`
	AccessExpiresAt  int64  `gorm:"not null"`
	RefreshExpiresAt int64  `gorm:"not null"`
	CreatedAt        int64  `gorm:"not null"`
}

func (collectSessionV17) TableName() string { return "collect_sessions" }

func migrateV17(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&collectDatabaseV17{}, &collectOperatorV17{}, &collectSessionV17{})
}
