package collect

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/models"
)

// Record definitions (issue 9, item 2): what the data server knows of a database's records. Collect! has no
// public record catalogue (ambiguity 18), so each database's records are defined through the platform API:
// a record's name (the vendor's recId, e.g. debtor), its rowid column (rowId, e.g. de_rowid), its typed
// fields and, for a sub-record, its parent record and the field holding the parent's rowid (a contact's
// co_debtor). Definitions are made and deleted, never changed: every row stores a value for every field.

// Field types. Values always travel as strings (ambiguity 18); the type decides what a value may be and how
// it compares: numbers as numbers, dates (YYYY-MM-DD) and times (HH:MM:SS) in their text order, which is
// their time order.
const (
	TypeText   = "text"
	TypeNumber = "number"
	TypeDate   = "date"
	TypeTime   = "time"
)

// FieldTypes lists the types a field may have.
var FieldTypes = []string{TypeText, TypeNumber, TypeDate, TypeTime}

// Limits of a definition.
const (
	MaxFields     = 200
	maxValueChars = 65535 // RecordData's maxLength
)

// RecordDef is a row of collect_record_defs with its fields (in their order).
type RecordDef struct {
	ID          int64 `gorm:"primaryKey;column:id"`
	DatabaseID  int64
	Name        string
	RowIDField  string `gorm:"column:rowid_field"`
	Parent      string // a sub-record's parent record ("" for a top-level record)
	ParentField string // the field of this record holding the parent's rowid
	CreatedAt   int64
	Fields      []FieldDef `gorm:"-"`
}

// TableName is the table of record definitions.
func (RecordDef) TableName() string { return "collect_record_defs" }

// FieldDef is a row of collect_field_defs: one field of a record.
type FieldDef struct {
	ID         int64 `gorm:"primaryKey;column:id"`
	DatabaseID int64
	RecordID   int64
	Name       string
	Type       string
	Position   int
	Default    string `gorm:"column:default_value"` // what pre-logic fills in when a create leaves the field out
}

// TableName is the table of field definitions.
func (FieldDef) TableName() string { return "collect_field_defs" }

// Field answers the field named name, or nil.
func (d *RecordDef) Field(name string) *FieldDef {
	for i := range d.Fields {
		if d.Fields[i].Name == name {
			return &d.Fields[i]
		}
	}
	return nil
}

// fieldByID answers the definition's field with that id, nil when it has none.
func (d *RecordDef) fieldByID(id int64) *FieldDef {
	for i := range d.Fields {
		if d.Fields[i].ID == id {
			return &d.Fields[i]
		}
	}
	return nil
}

// FieldInput is one field of a new definition.
type FieldInput struct {
	Name, Type string
	Default    *string
}

// RecordDefInput is a new definition. Parent and ParentField are both set (a sub-record) or both empty.
type RecordDefInput struct {
	Name, RowIDField    string
	Fields              []FieldInput
	Parent, ParentField string
}

// identifier is a record or field name (openapi/collect.yaml, RecordName and FieldName).
var identifier = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

func recordNotFound(name string) error {
	return models.Errorf(models.NotFound, "record %s not found", name)
}

func recordDefNotFound(id int64) error {
	return models.Errorf(models.NotFound, "Collect! record definition %d not found", id)
}

func (in RecordDefInput) check() error {
	for what, n := range map[string]string{"name": in.Name, "rowid_field": in.RowIDField} {
		if !identifier.MatchString(n) {
			return models.Errorf(models.Invalid, "%s %q: want a lower-case letter then up to 63 lower-case letters, digits or _", what, n)
		}
	}
	if in.Name == "counts" {
		return models.Errorf(models.Invalid, "name counts is reserved (GET …/{rowid}/counts)")
	}
	if len(in.Fields) > MaxFields {
		return models.Errorf(models.Invalid, "a record has at most %d fields", MaxFields)
	}
	seen := map[string]bool{in.RowIDField: true}
	for _, f := range in.Fields {
		if !identifier.MatchString(f.Name) {
			return models.Errorf(models.Invalid, "field %q: want a lower-case letter then up to 63 lower-case letters, digits or _", f.Name)
		}
		if seen[f.Name] {
			return models.Errorf(models.Invalid, "field %s is named twice (the rowid field is not listed among the fields)", f.Name)
		}
		seen[f.Name] = true
		if !slices.Contains(FieldTypes, f.Type) {
			return models.Errorf(models.Invalid, "field %s: type %q is not one of %v", f.Name, f.Type, FieldTypes)
		}
		if f.Default != nil {
			if _, _, err := checkValue(&FieldDef{Name: f.Name, Type: f.Type}, *f.Default); err != nil {
				return err
			}
		}
	}
	if (in.Parent == "") != (in.ParentField == "") {
		return models.Errorf(models.Invalid, "a sub-record names both its parent record and the field holding the parent's rowid")
	}
	if in.Parent != "" {
		if in.Parent == in.Name {
			return models.Errorf(models.Invalid, "a record cannot be its own sub-record")
		}
		i := slices.IndexFunc(in.Fields, func(f FieldInput) bool { return f.Name == in.ParentField })
		if i < 0 || in.Fields[i].Type != TypeNumber {
			return models.Errorf(models.Invalid, "parent field %s must be one of the record's fields, of type number", in.ParentField)
		}
	}
	return nil
}

// CreateRecordDef stores a new definition in the scope's database: a name the database has already is a
// Conflict, a parent the database does not define Invalid, a database that does not exist NotFound.
func CreateRecordDef(ctx context.Context, db *gorm.DB, s Scope, in RecordDefInput) (*RecordDef, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	d := &RecordDef{DatabaseID: s.DatabaseID, Name: in.Name, RowIDField: in.RowIDField, Parent: in.Parent,
		ParentField: in.ParentField, CreatedAt: time.Now().Unix()}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockDatabase(tx, s.DatabaseID, "SHARE"); err != nil {
			return err
		}
		var n int64
		if err := s.Query(ctx, tx, &RecordDef{}).Where("name = ?", in.Name).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return models.Errorf(models.Conflict, "the database defines a record %s already", in.Name)
		}
		if in.Parent != "" {
			if _, err := findDef(ctx, tx, s, in.Parent, "SHARE"); err != nil {
				if models.KindOf(err) == models.NotFound {
					return models.Errorf(models.Invalid, "parent record %s is not defined in this database", in.Parent)
				}
				return err
			}
		}
		if err := tx.Create(d).Error; err != nil {
			return err
		}
		for i, f := range in.Fields {
			fd := FieldDef{DatabaseID: s.DatabaseID, RecordID: d.ID, Name: f.Name, Type: f.Type, Position: i}
			if f.Default != nil {
				_, fd.Default, _ = checkValue(&fd, *f.Default)
			}
			d.Fields = append(d.Fields, fd)
		}
		if len(d.Fields) > 0 {
			return tx.Create(&d.Fields).Error
		}
		return nil
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, models.Wrap(models.Conflict, err, "the database defines a record "+in.Name+" already")
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// ListRecordDefs answers one page of the scope's definitions in id order, with their fields.
func ListRecordDefs(ctx context.Context, db *gorm.DB, s Scope, lq models.ListQuery) (models.PageOf[RecordDef], error) {
	page, err := models.List(ctx, s.Query(ctx, db, &RecordDef{}), "id", lq, func(d *RecordDef) int64 { return d.ID })
	if err != nil || len(page.Items) == 0 {
		return page, err
	}
	ids := make([]int64, len(page.Items))
	for i := range page.Items {
		ids[i] = page.Items[i].ID
	}
	var fields []FieldDef
	if err := s.Query(ctx, db, &FieldDef{}).Where("record_id IN ?", ids).Order("record_id, position").Find(&fields).Error; err != nil {
		return page, err
	}
	for _, f := range fields {
		i := slices.Index(ids, f.RecordID)
		page.Items[i].Fields = append(page.Items[i].Fields, f)
	}
	return page, nil
}

// GetRecordDef loads definition id of the scope's database; another database's is NotFound.
func GetRecordDef(ctx context.Context, db *gorm.DB, s Scope, id int64) (*RecordDef, error) {
	var d RecordDef
	err := s.Query(ctx, db, &RecordDef{}).Where("id = ?", id).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, recordDefNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	return &d, loadFields(ctx, db, s, &d)
}

// DefCache keeps record definitions by database and name for the reads of one row, the operation a client
// repeats most, which can tell a stale entry: definitions are created and deleted whole, never changed, and
// one that has rows cannot be deleted, so a row found under a cached definition is that definition's, and a
// row not found sends the reader back to the store (GetRowCached). Other operations read the store.
type DefCache struct {
	mu   sync.RWMutex
	defs map[defKey]*RecordDef
}

type defKey struct {
	database int64
	name     string
}

// maxCachedDefs bounds a DefCache; past it the cache starts afresh.
const maxCachedDefs = 4096

// NewDefCache builds an empty cache.
func NewDefCache() *DefCache { return &DefCache{defs: map[defKey]*RecordDef{}} }

// GetRowCached is GetRow of record name's row id through the cache, answering the definition too.
func (c *DefCache) GetRowCached(ctx context.Context, db *gorm.DB, s Scope, name string, id int64, fields string) (*RecordDef, Data, error) {
	key := defKey{s.DatabaseID, name}
	c.mu.RLock()
	d := c.defs[key]
	c.mu.RUnlock()
	if d != nil {
		data, err := GetRow(ctx, db, s, d, id, fields)
		if models.KindOf(err) != models.NotFound {
			return d, data, err
		}
		c.mu.Lock()
		delete(c.defs, key) // perhaps deleted and made again: ask the store
		c.mu.Unlock()
	}
	d, err := FindRecordDef(ctx, db, s, name)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	if len(c.defs) >= maxCachedDefs {
		c.defs = map[defKey]*RecordDef{}
	}
	c.defs[key] = d
	c.mu.Unlock()
	data, err := GetRow(ctx, db, s, d, id, fields)
	return d, data, err
}

// FindRecordDef loads the scope's definition of record name (NotFound: "record … not found").
func FindRecordDef(ctx context.Context, db *gorm.DB, s Scope, name string) (*RecordDef, error) {
	return findDef(ctx, db, s, name, "")
}

// findDef is FindRecordDef locked on Postgres with strength ("" none).
func findDef(ctx context.Context, db *gorm.DB, s Scope, name, strength string) (*RecordDef, error) {
	q := s.Query(ctx, db, &RecordDef{})
	if strength != "" && models.IsPostgres(db) {
		q = q.Clauses(clause.Locking{Strength: strength})
	}
	var d RecordDef
	err := q.Where("name = ?", name).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, recordNotFound(name)
	}
	if err != nil {
		return nil, err
	}
	return &d, loadFields(ctx, db, s, &d)
}

func loadFields(ctx context.Context, db *gorm.DB, s Scope, d *RecordDef) error {
	return s.Query(ctx, db, &FieldDef{}).Where("record_id = ?", d.ID).Order("position").Find(&d.Fields).Error
}

// SubRecordDefs answers the scope's definitions whose parent is record name, in name order.
func SubRecordDefs(ctx context.Context, db *gorm.DB, s Scope, name string) ([]RecordDef, error) {
	var subs []RecordDef
	if err := s.Query(ctx, db, &RecordDef{}).Where("parent = ?", name).Order("name").Find(&subs).Error; err != nil {
		return nil, err
	}
	for i := range subs {
		if err := loadFields(ctx, db, s, &subs[i]); err != nil {
			return nil, err
		}
	}
	return subs, nil
}

// DeleteRecordDef deletes a definition that has no rows, no sub-record definitions and no report starting
// on it (else Conflict): deleting a definition is never a way to lose records by accident, nor leaves a
// report listing fields nobody defines.
func DeleteRecordDef(ctx context.Context, db *gorm.DB, s Scope, id int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := s.Query(ctx, tx, &RecordDef{})
		if models.IsPostgres(tx) {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var d RecordDef
		err := q.Where("id = ?", id).Take(&d).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return recordDefNotFound(id)
		}
		if err != nil {
			return err
		}
		var rows, subs int64
		if err := s.Query(ctx, tx, &row{}).Where("record_id = ?", id).Count(&rows).Error; err != nil {
			return err
		}
		if rows > 0 {
			return models.Errorf(models.Conflict, "record %s still has %d rows: delete them first", d.Name, rows)
		}
		if err := s.Query(ctx, tx, &RecordDef{}).Where("parent = ?", d.Name).Count(&subs).Error; err != nil {
			return err
		}
		if subs > 0 {
			return models.Errorf(models.Conflict, "record %s is the parent of %d sub-record definitions: delete them first", d.Name, subs)
		}
		reports, err := countReportsOn(ctx, tx, s, d.Name)
		if err != nil {
			return err
		}
		if reports > 0 {
			return models.Errorf(models.Conflict, "record %s is the start of %d reports: delete them first", d.Name, reports)
		}
		if err := s.Query(ctx, tx, &FieldDef{}).Where("record_id = ?", id).Delete(&FieldDef{}).Error; err != nil {
			return err
		}
		return s.Query(ctx, tx, &RecordDef{}).Where("id = ?", id).Delete(&RecordDef{}).Error
	})
}

var numberText = regexp.MustCompile(`^-?[0-9]{1,15}(\.[0-9]{1,6})?$`)

// checkValue checks v against f's type and answers its stored form: the text answered, and the number of a
// number field.
func checkValue(f *FieldDef, v string) (*float64, string, error) {
	if len(v) > maxValueChars {
		return nil, "", models.Errorf(models.Invalid, "field %s: value longer than %d bytes", f.Name, maxValueChars)
	}
	switch f.Type {
	case TypeNumber:
		if !numberText.MatchString(v) {
			return nil, "", models.Errorf(models.Invalid, "field %s: %q is not a number (digits, an optional - and up to 6 decimals)", f.Name, v)
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, "", models.Errorf(models.Invalid, "field %s: %q is not a number", f.Name, v)
		}
		return &n, v, nil
	case TypeDate, TypeTime:
		layout := map[string]string{TypeDate: "2006-01-02", TypeTime: "15:04:05"}[f.Type]
		if v != "" {
			if _, err := time.Parse(layout, v); err != nil || len(v) != len(layout) {
				return nil, "", models.Errorf(models.Invalid, "field %s: %q is not a %s (%s, or empty)", f.Name, v, f.Type,
					map[string]string{TypeDate: "YYYY-MM-DD", TypeTime: "HH:MM:SS"}[f.Type])
			}
		}
	}
	return nil, v, nil
}

// blank is a field's value when nothing sets it: 0 for a number, empty otherwise.
func blank(f *FieldDef) string {
	if f.Type == TypeNumber {
		return "0"
	}
	return ""
}
