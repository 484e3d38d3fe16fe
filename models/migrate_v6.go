package models

import "gorm.io/gorm"

// Step 6: ICTCore's administration tables: providers (delivery trunks), accounts (with their settings and
// owner), the permission names a user can be granted one by one, and the user columns ICTCore answers.

type providerV6 struct {
	ID          int64  `gorm:"primaryKey;column:provider_id"`
	Name        string `gorm:"size:128;not null"`
	Type        string `gorm:"size:16;not null"`
	ServiceFlag int    `gorm:"not null"`
	NodeID      int64  `gorm:"not null;default:1"`
	Host        string `gorm:"size:128;not null;default:''"`
	Port        int    `gorm:"not null;default:0"`
	Username    string `gorm:"size:64;not null;default:''"`
	Password    string `gorm:"size:128;not null;default:''"` // write-only in the API; a gateway needs it in clear
	Dialstring  string `gorm:"size:255;not null;default:''"`
	Prefix      string `gorm:"size:255;not null;default:''"`
	Settings    string `gorm:"size:2000;not null;default:''"`
	Description string `gorm:"size:255;not null;default:''"`
	Register    int    `gorm:"not null;default:0"`
	Weight      int    `gorm:"not null;default:0"`
	Active      int    `gorm:"not null;default:1"`
	CreatedAt   int64  `gorm:"not null"`
	UpdatedAt   int64  `gorm:"not null"`
}

func (providerV6) TableName() string { return "providers" }

// accountV6: username is unique per type (the guide). user_id is the owner (nullable: dissociated).
// passwd_hash and pin_hash hold hashes of the write-only passwd and passwd_pin.
type accountV6 struct {
	ID         int64  `gorm:"primaryKey;column:account_id"`
	Type       string `gorm:"size:16;not null;default:'account';uniqueIndex:idx_accounts_type_username"`
	Username   string `gorm:"size:64;not null;uniqueIndex:idx_accounts_type_username"`
	PasswdHash string `gorm:"size:255;not null;default:''"`
	PinHash    string `gorm:"size:255;not null;default:''"`
	FirstName  string `gorm:"size:128;not null;default:''"`
	LastName   string `gorm:"size:128;not null;default:''"`
	Phone      string `gorm:"size:32;not null;default:''"`
	Email      string `gorm:"size:128;not null;default:''"`
	Address    string `gorm:"size:128;not null;default:''"`
	Active     int    `gorm:"not null;default:0"`
	UserID     *int64 `gorm:"index"`
	CreatedAt  int64  `gorm:"not null"`
	UpdatedAt  int64  `gorm:"not null"`
}

func (accountV6) TableName() string { return "accounts" }

type accountSettingV6 struct {
	AccountID int64  `gorm:"primaryKey;autoIncrement:false"`
	Name      string `gorm:"primaryKey;size:64"`
	Value     string `gorm:"size:2000;not null"`
}

func (accountSettingV6) TableName() string { return "account_settings" }

// permissionV6 is a permission name with a stable id (PUT /users/{id}/permissions/{permission_id}).
type permissionV6 struct {
	ID          int64  `gorm:"primaryKey;autoIncrement:false;column:permission_id"`
	Name        string `gorm:"size:64;not null;uniqueIndex"`
	Description string `gorm:"size:255;not null;default:''"`
}

func (permissionV6) TableName() string { return "permissions" }

type userPermissionV6 struct {
	UserID       int64 `gorm:"primaryKey;autoIncrement:false"`
	PermissionID int64 `gorm:"primaryKey;autoIncrement:false;index"`
}

func (userPermissionV6) TableName() string { return "user_permissions" }

// PermissionNames are ICTCore's permission names (notes/ictcore.md section 10: every name ICTCore's
// permission table and its user role use, and each one's parent), in id order from 1; a parent name
// ("contact") grants its children ("contact_create"). Step 6 seeds them; a later step may only append.
var PermissionNames = []string{
	"account", "account_create", "account_delete", "account_list", "account_read", "account_update", "api",
	"campaign", "campaign_create", "campaign_delete", "campaign_list", "campaign_read", "campaign_start",
	"campaign_stop", "campaign_update", "configuration", "configuration_read", "contact", "contact_create",
	"contact_delete", "contact_list", "contact_read", "contact_update", "document", "document_create",
	"document_delete", "document_list", "document_read", "document_update", "group", "group_create",
	"group_delete", "group_list", "group_read", "group_update", "permission", "permission_create",
	"permission_delete", "program", "program_create", "program_delete", "program_execute", "program_list",
	"program_read", "provider", "provider_create", "provider_delete", "provider_list", "provider_read",
	"provider_update", "recording", "recording_create", "recording_delete", "recording_list", "recording_read",
	"recording_update", "result", "result_read", "role", "role_update", "schedule", "spool", "spool_read",
	"statistic", "statistic_read", "task", "task_create", "task_delete", "template", "template_create",
	"template_delete", "template_list", "template_read", "template_update", "text", "text_create",
	"text_delete", "text_list", "text_read", "text_update", "transmission", "transmission_create",
	"transmission_delete", "transmission_list", "transmission_read", "transmission_send", "transmission_update",
	"user", "user_create", "user_delete", "user_list", "user_password", "user_read", "user_update",
}

func migrateV6(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&providerV6{}, &accountV6{}, &accountSettingV6{}, &permissionV6{}, &userPermissionV6{}); err != nil {
		return err
	}
	rows := make([]permissionV6, len(PermissionNames))
	for i, n := range PermissionNames {
		rows[i] = permissionV6{ID: int64(i + 1), Name: n}
	}
	if err := tx.CreateInBatches(rows, 100).Error; err != nil {
		return err
	}
	for _, col := range []string{
		"ALTER TABLE users ADD COLUMN country_id bigint",
		"ALTER TABLE users ADD COLUMN language_id varchar(2) NOT NULL DEFAULT ''",
		"ALTER TABLE users ADD COLUMN timezone_id bigint",
	} {
		if err := tx.Exec(col).Error; err != nil {
			return err
		}
	}
	return nil
}
