package models

import "gorm.io/gorm"

// Step 22: Expertflow CIM (issue 10, item 1; openapi/cim.yaml). No foreign keys, as elsewhere: models/cim
// deletes what hangs off a row in the same transaction.
//
//   - cim_ids holds one counter per kind of object. Every CIM id is allocated from it in the transaction
//     that creates the object, as max(last + 1, now << 24): the id's high bits are its creation second, so
//     the `_id` built from it (8 hex digits of seconds, 16 of the counter) grows with creation time, and
//     the row lock on the counter orders concurrent creates on Postgres (review R28).
//   - cim_attributes is the run-time contact schema: the three predefined attributes (ids 1–3, seeded here)
//     and at most 50 custom ones. attr_key is the key as created; key_fold, its lower case, is unique.
//   - cim_contacts is one row per contact with its name search keys (lower case, first 500 characters):
//     first name, last name and "first last", each indexed in byte order so a prefix is an index range.
//   - cim_values holds a contact's attribute values, one row per (contact, attribute): the value as JSON
//     as stored, and its search form (folded: lower case, a phone's digits, a datetime in UTC; first 500
//     characters), indexed by (attr_id, folded) in byte order. The schema can change at run time without
//     touching this table's shape.
//   - cim_phones is the digits of every phone-type value, one row per number and contact: its primary key
//     makes a number unique across contacts (a number may repeat within one contact's attributes).
//   - cim_mappings are the search criteria (call variable → contact attribute), one per key_fold.
//   - cim_trees is one row per call (call_id unique), linked to a contact or not; cim_legs its legs, one
//     per (call_id, interaction_type, agent_id) within the tree; the document's optional leg fields are
//     NULL until saved.
type cimIDV22 struct {
	Name string `gorm:"primaryKey;size:32"`
	Last int64  `gorm:"not null"`
}

func (cimIDV22) TableName() string { return "cim_ids" }

type cimAttributeV22 struct {
	ID         int64  `gorm:"primaryKey;autoIncrement:false"`
	Key        string `gorm:"column:attr_key;size:64;not null"`
	KeyFold    string `gorm:"size:64;not null;uniqueIndex"`
	Label      string `gorm:"size:255;not null"`
	Type       string `gorm:"size:16;not null"`
	Predefined bool   `gorm:"not null;default:false"`
	CreatedAt  int64  `gorm:"not null"`
}

func (cimAttributeV22) TableName() string { return "cim_attributes" }

type cimContactV22 struct {
	ID        int64  `gorm:"primaryKey;autoIncrement:false"`
	FirstKey  string `gorm:"type:text;not null;default:''"`
	LastKey   string `gorm:"type:text;not null;default:''"`
	FullKey   string `gorm:"type:text;not null;default:''"`
	CreatedAt int64  `gorm:"not null"`
	UpdatedAt int64  `gorm:"not null"`
}

func (cimContactV22) TableName() string { return "cim_contacts" }

type cimValueV22 struct {
	ContactID int64  `gorm:"primaryKey;autoIncrement:false"`
	AttrID    int64  `gorm:"primaryKey;autoIncrement:false"`
	Value     string `gorm:"type:text;not null"`
	Folded    string `gorm:"type:text;not null"`
}

func (cimValueV22) TableName() string { return "cim_values" }

type cimPhoneV22 struct {
	Digits    string `gorm:"primaryKey;size:20"`
	ContactID int64  `gorm:"not null;index"`
}

func (cimPhoneV22) TableName() string { return "cim_phones" }

type cimMappingV22 struct {
	ID           int64  `gorm:"primaryKey;autoIncrement:false"`
	CallVar      string `gorm:"size:16;not null"`
	CallVariable string `gorm:"size:255;not null;default:''"`
	VarNumber    string `gorm:"size:2;not null;default:''"`
	Key          string `gorm:"column:attr_key;size:64;not null"`
	KeyFold      string `gorm:"size:64;not null;uniqueIndex"`
	CreatedAt    int64  `gorm:"not null"`
}

func (cimMappingV22) TableName() string { return "cim_mappings" }

type cimTreeV22 struct {
	ID        int64  `gorm:"primaryKey;autoIncrement:false"`
	CallID    string `gorm:"size:255;not null;uniqueIndex"`
	Phone     string `gorm:"size:64;not null;default:''"`
	ContactID *int64
	CreatedAt int64 `gorm:"not null"`
	UpdatedAt int64 `gorm:"not null"`
}

func (cimTreeV22) TableName() string { return "cim_trees" }

type cimLegV22 struct {
	ID              int64   `gorm:"primaryKey;autoIncrement:false"`
	TreeID          int64   `gorm:"not null;uniqueIndex:idx_cim_legs_identity,priority:1"`
	CallID          string  `gorm:"size:255;not null;uniqueIndex:idx_cim_legs_identity,priority:2"`
	InteractionType string  `gorm:"size:64;not null;default:'';uniqueIndex:idx_cim_legs_identity,priority:3"`
	AgentID         string  `gorm:"size:255;not null;default:'';uniqueIndex:idx_cim_legs_identity,priority:4"`
	Type            *string `gorm:"size:64"`
	StartTime       *string `gorm:"size:64"`
	CallDuration    *string `gorm:"size:32"`
	IvrTrail        *string `gorm:"type:text"`
	CallDisposition *string `gorm:"size:255"`
	TeamName        *string `gorm:"size:255"`
	Csq             *string `gorm:"size:255"`
	WrapUp          *string `gorm:"type:text"`
}

func (cimLegV22) TableName() string { return "cim_legs" }

func migrateV22(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&cimIDV22{}, &cimAttributeV22{}, &cimContactV22{}, &cimValueV22{},
		&cimPhoneV22{}, &cimMappingV22{}, &cimTreeV22{}, &cimLegV22{}); err != nil {
		return err
	}
	// Byte order ("C" collation on Postgres, SQLite's default BINARY), so a prefix is a range of the index.
	collate := ""
	if IsPostgres(tx) {
		collate = ` COLLATE "C"`
	}
	for _, idx := range []string{
		`CREATE INDEX idx_cim_contacts_first ON cim_contacts (first_key` + collate + `)`,
		`CREATE INDEX idx_cim_contacts_last ON cim_contacts (last_key` + collate + `)`,
		`CREATE INDEX idx_cim_contacts_full ON cim_contacts (full_key` + collate + `)`,
		`CREATE INDEX idx_cim_values_search ON cim_values (attr_id, folded` + collate + `)`,
		// loadInteractions: a contact's trees, newest first.
		`CREATE INDEX idx_cim_trees_contact_id ON cim_trees (contact_id, id)`,
	} {
		if err := tx.Exec(idx).Error; err != nil {
			return err
		}
	}
	if err := tx.Create([]cimAttributeV22{
		{ID: 1, Key: "first_name", KeyFold: "first_name", Label: "First Name", Type: "text", Predefined: true},
		{ID: 2, Key: "last_name", KeyFold: "last_name", Label: "Last Name", Type: "text", Predefined: true},
		{ID: 3, Key: "phone1", KeyFold: "phone1", Label: "Phone", Type: "phone", Predefined: true},
	}).Error; err != nil {
		return err
	}
	return tx.Create([]cimIDV22{{Name: "contacts"}, {Name: "attributes", Last: 3}, {Name: "mappings"},
		{Name: "trees"}, {Name: "legs"}}).Error
}
