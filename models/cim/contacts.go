package cim

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"gorm.io/gorm"

	"switchboard/models"
)

// contactRow is a row of cim_contacts: a contact's id and its name search keys.
type contactRow struct {
	ID        int64 `gorm:"primaryKey;column:id"`
	FirstKey  string
	LastKey   string
	FullKey   string
	CreatedAt int64
	UpdatedAt int64
}

func (contactRow) TableName() string { return "cim_contacts" }

// value is a row of cim_values: one attribute value of one contact.
type value struct {
	ContactID int64 `gorm:"primaryKey;autoIncrement:false"`
	AttrID    int64 `gorm:"primaryKey;autoIncrement:false"`
	Value     string
	Folded    string
}

func (value) TableName() string { return "cim_values" }

// phone is a row of cim_phones: a number (its digits) and the contact that has it.
type phone struct {
	Digits    string `gorm:"primaryKey"`
	ContactID int64
}

func (phone) TableName() string { return "cim_phones" }

// Contact is a contact with its values: attribute key → the value as stored (a string, a bool or a
// float64), every attribute without a value absent.
type Contact struct {
	ID     int64
	Values map[string]any
}

// Values is what a client sends of a contact: attribute key → a string, bool, json.Number or float64.
// The empty string is no value; "_id" is ignored.
type Values map[string]any

// entry is one checked value of a contact about to be written.
type entry struct {
	attr *Attribute
	raw  string // as sent, for messages
	checked
}

// SaveContact stores a new contact. phone1 is required; every key must be an attribute of the schema and
// its value fit the attribute's type (Invalid); a number another contact has is a Conflict (ambiguity 25:
// nothing is overwritten).
func SaveContact(ctx context.Context, db *gorm.DB, in Values) (*Contact, error) {
	var c *Contact
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		s, err := loadSchema(tx, true)
		if err != nil {
			return err
		}
		entries, err := s.checkAll(in)
		if err != nil {
			return err
		}
		id, err := allocID(tx, kindContacts)
		if err != nil {
			return err
		}
		t := now().Unix()
		row := nameKeys(entries)
		row.ID, row.CreatedAt, row.UpdatedAt = id, t, t
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := writeValues(tx, id, entries); err != nil {
			return err
		}
		c = toContact(id, entries)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// UpdateContact changes some values of contact id (review R21): a key present replaces the stored value,
// an absent key keeps it, the empty string removes it (phone1 cannot be removed). Values are checked as
// SaveContact checks them.
func UpdateContact(ctx context.Context, db *gorm.DB, id int64, in Values) (*Contact, error) {
	var c *Contact
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The contact's row first: on Postgres its lock serializes updates of one contact.
		res := tx.Model(&contactRow{}).Where("id = ?", id).Update("updated_at", now().Unix())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return notFound("contact", id)
		}
		s, err := loadSchema(tx, true)
		if err != nil {
			return err
		}
		stored, err := readValues(tx, s, []int64{id})
		if err != nil {
			return err
		}
		merged := Values{}
		for k, v := range stored[id] {
			merged[k] = v
		}
		for k, v := range in {
			if v == "" && k != KeyID {
				if k == KeyPhone1 {
					return models.Errorf(models.Invalid, "phone1 cannot be removed: a contact needs a phone number")
				}
				if s.Attribute(k) == nil {
					return unknownKey(k)
				}
				delete(merged, k)
				continue
			}
			merged[k] = v
		}
		entries, err := s.checkAll(merged)
		if err != nil {
			return err
		}
		row := nameKeys(entries)
		if err := tx.Model(&contactRow{}).Where("id = ?", id).
			Updates(map[string]any{"first_key": row.FirstKey, "last_key": row.LastKey, "full_key": row.FullKey}).Error; err != nil {
			return err
		}
		if err := tx.Where("contact_id = ?", id).Delete(&value{}).Error; err != nil {
			return err
		}
		if err := tx.Where("contact_id = ?", id).Delete(&phone{}).Error; err != nil {
			return err
		}
		if err := writeValues(tx, id, entries); err != nil {
			return err
		}
		c = toContact(id, entries)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// GetContact answers contact id with its values.
func GetContact(ctx context.Context, db *gorm.DB, id int64) (*Contact, error) {
	return getContact(db.WithContext(ctx), id)
}

func getContact(tx *gorm.DB, id int64) (*Contact, error) {
	var n int64
	if err := tx.Model(&contactRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, notFound("contact", id)
	}
	s, err := loadSchema(tx, false)
	if err != nil {
		return nil, err
	}
	vals, err := readValues(tx, s, []int64{id})
	if err != nil {
		return nil, err
	}
	return &Contact{ID: id, Values: vals[id]}, nil
}

// DeleteContact deletes contact id with its values and numbers, unlinks its interaction trees (kept for
// reporting), and answers the contact as it was.
func DeleteContact(ctx context.Context, db *gorm.DB, id int64) (*Contact, error) {
	var c *Contact
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if c, err = getContact(tx, id); err != nil {
			return err
		}
		res := tx.Where("id = ?", id).Delete(&contactRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return notFound("contact", id) // deleted meanwhile
		}
		if err := tx.Where("contact_id = ?", id).Delete(&value{}).Error; err != nil {
			return err
		}
		if err := tx.Where("contact_id = ?", id).Delete(&phone{}).Error; err != nil {
			return err
		}
		return tx.Model(&Tree{}).Where("contact_id = ?", id).Update("contact_id", nil).Error
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// unknownKey is the error of a key that is not an attribute of the schema.
func unknownKey(k string) error {
	return models.Errorf(models.Invalid, "%q is not an attribute of the contact schema (GET /getSchema lists them)", k)
}

// checkAll checks every value of a contact against the schema: known keys, values that fit their types,
// phone1 present. "_id" and empty strings are skipped.
func (s *Schema) checkAll(in Values) ([]entry, error) {
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the first error is the same every time
	entries := make([]entry, 0, len(in))
	for _, k := range keys {
		v := in[k]
		if k == KeyID || v == "" {
			continue
		}
		a := s.Attribute(k)
		if a == nil {
			return nil, unknownKey(k)
		}
		c, err := a.check(v)
		if err != nil {
			return nil, err
		}
		raw, ok := v.(string)
		if !ok {
			raw = c.folded
		}
		entries = append(entries, entry{attr: a, raw: raw, checked: c})
	}
	if !slices.ContainsFunc(entries, func(e entry) bool { return e.attr.Key == KeyPhone1 }) {
		return nil, models.Errorf(models.Invalid, "phone1 is required: a contact needs a phone number")
	}
	return entries, nil
}

// nameKeys answers a contact row with the name search keys of its values.
func nameKeys(entries []entry) contactRow {
	var first, last string
	for _, e := range entries {
		switch e.attr.Key {
		case KeyFirstName:
			_ = json.Unmarshal(e.stored, &first)
		case KeyLastName:
			_ = json.Unmarshal(e.stored, &last)
		}
	}
	return contactRow{FirstKey: fold(first), LastKey: fold(last), FullKey: fold(strings.TrimSpace(first + " " + last))}
}

// writeValues inserts a contact's values and its numbers. A number another contact has is a Conflict
// naming that contact; the primary key of cim_phones refuses one that a concurrent save took meanwhile.
func writeValues(tx *gorm.DB, id int64, entries []entry) error {
	if len(entries) == 0 {
		return nil
	}
	rows := make([]value, len(entries))
	var numbers []string
	written := map[string]string{} // digits → as written
	for i, e := range entries {
		rows[i] = value{ContactID: id, AttrID: e.attr.ID, Value: string(e.stored), Folded: e.folded}
		if e.attr.Type == TypePhone {
			if _, dup := written[e.folded]; !dup {
				numbers = append(numbers, e.folded)
				written[e.folded] = e.raw
			}
		}
	}
	if len(numbers) > 0 {
		var held []phone
		if err := tx.Where("digits IN ? AND contact_id <> ?", numbers, id).Find(&held).Error; err != nil {
			return err
		}
		if len(held) > 0 {
			return models.Errorf(models.Conflict, "phone number %s already belongs to contact %s",
				written[held[0].Digits], FormatID(held[0].ContactID))
		}
	}
	if err := tx.Create(&rows).Error; err != nil {
		return err
	}
	if len(numbers) == 0 {
		return nil
	}
	phones := make([]phone, len(numbers))
	for i, d := range numbers {
		phones[i] = phone{Digits: d, ContactID: id}
	}
	if err := tx.Create(&phones).Error; err != nil {
		if models.KindOf(err) == models.Conflict {
			return models.Wrap(models.Conflict, err, "a phone number of this contact was just saved on another contact")
		}
		return err
	}
	return nil
}

// toContact answers the contact that entries describe.
func toContact(id int64, entries []entry) *Contact {
	c := &Contact{ID: id, Values: make(map[string]any, len(entries))}
	for _, e := range entries {
		c.Values[e.attr.Key] = decode(e.stored)
	}
	return c
}

// decode answers a stored value: a string, bool or float64.
func decode(raw []byte) any {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	return v
}

// readValues answers the values of the contacts ids, by contact. Values of an attribute the schema no
// longer has are not answered.
func readValues(tx *gorm.DB, s *Schema, ids []int64) (map[int64]map[string]any, error) {
	out := make(map[int64]map[string]any, len(ids))
	for _, id := range ids {
		out[id] = map[string]any{}
	}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []value
	if err := tx.Where("contact_id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		if a := s.byID[r.AttrID]; a != nil {
			out[r.ContactID][a.Key] = decode([]byte(r.Value))
		}
	}
	return out, nil
}

// ContactOf answers the contact whose phone-type attributes hold the number (compared by digits), or
// NotFound.
func ContactOf(ctx context.Context, db *gorm.DB, number string) (int64, error) {
	return contactOfNumber(db.WithContext(ctx), number)
}

func contactOfNumber(tx *gorm.DB, number string) (int64, error) {
	d, err := PhoneDigits(number)
	if err != nil {
		return 0, models.Errorf(models.NotFound, "no contact has the number %q", number)
	}
	var p phone
	err = tx.Where("digits = ?", d).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, models.Errorf(models.NotFound, "no contact has the number %q", number)
	}
	return p.ContactID, err
}
