package cim

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/models"
)

// The attribute types: the CIM document's Text, Phone, Email, Date, DateTime, URL and Bool (notes/vendors.md
// 2.2), lower-cased, and number from Expertflow's attribute type dictionary.
const (
	TypeText     = "text"
	TypePhone    = "phone"
	TypeEmail    = "email"
	TypeDate     = "date"
	TypeDateTime = "datetime"
	TypeURL      = "url"
	TypeBool     = "bool"
	TypeNumber   = "number"
)

// Limits of the schema and of values.
const (
	MaxCustomAttributes = 50   // release notes: "only up to 50 custom attributes"
	MaxText             = 1000 // Text: "string up to 1000 chars"
	MaxEmail            = 254
	MaxURL              = 2000
	MaxPhoneDigits      = 20
	maxPhone            = 64  // characters of a phone number as written
	maxKey              = 500 // characters of a search key (folded value, name keys)
)

// typeNames maps every accepted spelling of a type, lower-cased, to the type (review R19).
var typeNames = map[string]string{
	"text": TypeText, "string": TypeText,
	"phone": TypePhone, "phonenumber": TypePhone,
	"email":    TypeEmail,
	"date":     TypeDate,
	"datetime": TypeDateTime, "date-time": TypeDateTime, "date_time": TypeDateTime,
	"url": TypeURL, "uri": TypeURL,
	"bool": TypeBool, "boolean": TypeBool,
	"number": TypeNumber,
}

// ParseType answers the type a client's spelling names (any case; `string` is text), or Invalid.
func ParseType(s string) (string, error) {
	if t, ok := typeNames[strings.ToLower(strings.TrimSpace(s))]; ok {
		return t, nil
	}
	return "", models.Errorf(models.Invalid,
		"attribute type %q: want Text (or string), Phone, Email, Date, DateTime, URL, Bool or Number", s)
}

// Attribute is a row of cim_attributes: one attribute of the contact object.
type Attribute struct {
	ID         int64  `gorm:"primaryKey;column:id"`
	Key        string `gorm:"column:attr_key"`
	KeyFold    string
	Label      string
	Type       string
	Predefined bool
	CreatedAt  int64
}

// TableName is the table of attributes.
func (Attribute) TableName() string { return "cim_attributes" }

// The predefined attributes' keys.
const (
	KeyFirstName = "first_name"
	KeyLastName  = "last_name"
	KeyPhone1    = "phone1"
	// KeyPhone is the search term and mapping key that stands for every phone-type attribute.
	KeyPhone = "phone"
	// KeyID is the `_id` a client may echo in a body; it is never an attribute.
	KeyID = "_id"
)

// Schema is the contact schema at one moment: every attribute, by key as stored.
type Schema struct {
	Attributes []Attribute // in id order: the predefined ones first
	byKey      map[string]*Attribute
	byID       map[int64]*Attribute
}

// Attribute answers the attribute whose key is key, spelled as stored, or nil.
func (s *Schema) Attribute(key string) *Attribute { return s.byKey[key] }

// loadSchema reads the schema. With share (contact writes), each attribute row is share-locked on Postgres
// until tx ends, so an attribute cannot be deleted under a save that writes values of it.
func loadSchema(tx *gorm.DB, share bool) (*Schema, error) {
	q := tx.Order("id")
	if share && models.IsPostgres(tx) {
		q = q.Clauses(lockShare)
	}
	s := &Schema{}
	if err := q.Find(&s.Attributes).Error; err != nil {
		return nil, err
	}
	s.byKey = make(map[string]*Attribute, len(s.Attributes))
	s.byID = make(map[int64]*Attribute, len(s.Attributes))
	for i := range s.Attributes {
		a := &s.Attributes[i]
		s.byKey[a.Key], s.byID[a.ID] = a, a
	}
	return s, nil
}

// lockShare share-locks the rows a query reads until the transaction ends (Postgres only).
var lockShare = clause.Locking{Strength: "SHARE"}

// LoadSchema reads the schema as it is now.
func LoadSchema(ctx context.Context, db *gorm.DB) (*Schema, error) {
	return loadSchema(db.WithContext(ctx), false)
}

// ListAttributes answers a page of the schema in id order: the predefined attributes, then the custom
// ones in creation order.
func ListAttributes(ctx context.Context, db *gorm.DB, lq models.ListQuery) (models.PageOf[Attribute], error) {
	return models.List(ctx, db.Model(&Attribute{}), "id", lq, func(a *Attribute) int64 { return a.ID })
}

// AttributeInput is what a client sends of an attribute; nil is absent.
type AttributeInput struct {
	Key, Label, Type *string
}

var keyPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// checkKey refuses a key that is not a property name, or is reserved.
func checkKey(key string) error {
	switch {
	case key == "" || len(key) > 64 || !keyPattern.MatchString(key):
		return models.Errorf(models.Invalid, "attribute key %q: want a letter, then letters, digits and _ (at most 64)", key)
	case strings.EqualFold(key, KeyPhone):
		return models.Errorf(models.Invalid, "attribute key %q is reserved: it is the search term for every phone attribute", key)
	}
	return nil
}

// SaveAttribute adds a custom attribute: key required (a property name), label defaulting to the key, type
// to text. A key taken in any case, or a 51st custom attribute, is a Conflict.
func SaveAttribute(ctx context.Context, db *gorm.DB, in AttributeInput) (*Attribute, error) {
	if in.Key == nil {
		return nil, models.Errorf(models.Invalid, "attribute key is required")
	}
	if err := checkKey(*in.Key); err != nil {
		return nil, err
	}
	a := &Attribute{Key: *in.Key, KeyFold: strings.ToLower(*in.Key), Label: *in.Key, Type: TypeText}
	if in.Label != nil {
		a.Label = *in.Label
	}
	if in.Type != nil {
		t, err := ParseType(*in.Type)
		if err != nil {
			return nil, err
		}
		a.Type = t
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The counter first: its lock makes the count below exact on Postgres too.
		id, err := allocID(tx, kindAttributes)
		if err != nil {
			return err
		}
		var taken Attribute
		err = tx.Where("key_fold = ?", a.KeyFold).Take(&taken).Error
		if err == nil {
			return models.Errorf(models.Conflict, "attribute key %q exists already (as %q)", a.Key, taken.Key)
		} else if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		var n int64
		if err := tx.Model(&Attribute{}).Where("predefined = ?", false).Count(&n).Error; err != nil {
			return err
		}
		if n >= MaxCustomAttributes {
			return models.Errorf(models.Conflict, "the schema has %d custom attributes already, the most it may have", n)
		}
		a.ID, a.CreatedAt = id, now().Unix()
		return tx.Create(a).Error
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// GetAttribute answers attribute id.
func GetAttribute(ctx context.Context, db *gorm.DB, id int64) (*Attribute, error) {
	var a Attribute
	err := db.WithContext(ctx).Where("id = ?", id).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, notFound("attribute", id)
	}
	return &a, err
}

// UpdateAttribute changes an attribute's label. A key or type sent must name the stored one (a client
// sending back what it read): changing either would orphan or invalidate stored values.
func UpdateAttribute(ctx context.Context, db *gorm.DB, id int64, in AttributeInput) (*Attribute, error) {
	var a Attribute
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Clauses(lockForUpdate(tx)...).Where("id = ?", id).Take(&a).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return notFound("attribute", id)
		} else if err != nil {
			return err
		}
		if in.Key != nil && *in.Key != a.Key {
			return models.Errorf(models.Invalid, "attribute key %q cannot change (to %q): delete the attribute and add a new one", a.Key, *in.Key)
		}
		if in.Type != nil {
			t, err := ParseType(*in.Type)
			if err != nil {
				return err
			}
			if t != a.Type {
				return models.Errorf(models.Invalid, "attribute %q: type %s cannot change (to %s): delete the attribute and add a new one", a.Key, a.Type, t)
			}
		}
		if in.Label == nil || *in.Label == a.Label {
			return nil
		}
		a.Label = *in.Label
		return tx.Model(&Attribute{}).Where("id = ?", id).Update("label", a.Label).Error
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// DeleteAttribute deletes a custom attribute and every contact's value of it (and, for a phone attribute,
// the numbers no other phone attribute of the same contact still holds). Predefined attributes and
// attributes a mapping condition uses are a Conflict.
func DeleteAttribute(ctx context.Context, db *gorm.DB, id int64) (*Attribute, error) {
	var a Attribute
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Where("id = ?", id).Take(&a).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return notFound("attribute", id)
		} else if err != nil {
			return err
		}
		if a.Predefined {
			return models.Errorf(models.Conflict, "attribute %q is predefined and cannot be deleted", a.Key)
		}
		// The row first: on Postgres its delete waits for the writes that share-locked it (contact saves,
		// mapping conditions), and a write that starts later no longer sees the attribute, so the checks
		// and deletes below see everything that will ever refer to it.
		res := tx.Where("id = ?", id).Delete(&Attribute{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return notFound("attribute", id)
		}
		var used int64
		if err := tx.Model(&Mapping{}).Where("key_fold = ?", a.KeyFold).Count(&used).Error; err != nil {
			return err
		}
		if used > 0 {
			return models.Errorf(models.Conflict, "attribute %q is used by a mapping condition: delete the condition first", a.Key)
		}
		if a.Type == TypePhone {
			// Free the numbers this attribute held unless another phone attribute of the contact holds them.
			if err := tx.Exec(`DELETE FROM cim_phones WHERE EXISTS (SELECT 1 FROM cim_values v
				WHERE v.attr_id = ? AND v.contact_id = cim_phones.contact_id AND v.folded = cim_phones.digits)
				AND NOT EXISTS (SELECT 1 FROM cim_values w JOIN cim_attributes t ON t.id = w.attr_id
				WHERE t.type = ? AND w.contact_id = cim_phones.contact_id AND w.folded = cim_phones.digits)`,
				id, TypePhone).Error; err != nil {
				return err
			}
		}
		return tx.Where("attr_id = ?", id).Delete(&value{}).Error
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// lockForUpdate locks the rows a query reads until the transaction ends, on Postgres (SQLite has one
// writer at a time).
func lockForUpdate(tx *gorm.DB) []clause.Expression {
	if models.IsPostgres(tx) {
		return []clause.Expression{clause.Locking{Strength: "UPDATE"}}
	}
	return nil
}

// checked is a value that fits its attribute: stored is its JSON as kept and answered, folded its
// search form.
type checked struct {
	stored json.RawMessage
	folded string
}

// check holds v (a string, bool, json.Number or float64 from a decoded body) to the attribute's type.
// The empty string is no value and never reaches it.
func (a *Attribute) check(v any) (checked, error) {
	bad := func(why string) error {
		return models.Errorf(models.Invalid, "attribute %q (%s): %s", a.Key, a.Type, why)
	}
	s, isString := v.(string)
	switch n := v.(type) {
	case json.Number:
		if a.Type == TypeText || a.Type == TypePhone {
			s, isString = n.String(), true // a number where text is expected: its digits
		}
	case float64:
		if a.Type == TypeText || a.Type == TypePhone {
			s, isString = strconv.FormatFloat(n, 'f', -1, 64), true
		}
	}
	switch a.Type {
	case TypeText:
		if !isString {
			return checked{}, bad("want a string")
		}
		if utf8.RuneCountInString(s) > MaxText {
			return checked{}, bad("longer than 1000 characters")
		}
		return text(s, fold(s)), nil
	case TypePhone:
		if !isString {
			return checked{}, bad("want a phone number as a string")
		}
		d, err := PhoneDigits(s)
		if err != nil {
			return checked{}, bad(err.Error())
		}
		return text(s, d), nil
	case TypeEmail:
		if !isString {
			return checked{}, bad("want an e-mail address as a string")
		}
		if addr, err := mail.ParseAddress(s); err != nil || addr.Address != s || len(s) > MaxEmail {
			return checked{}, bad(strconv.Quote(s) + " is not an e-mail address")
		}
		return text(s, fold(s)), nil
	case TypeDate:
		if _, err := time.Parse(time.DateOnly, s); !isString || err != nil {
			return checked{}, bad("want a date YYYY-MM-DD")
		}
		return text(s, s), nil
	case TypeDateTime:
		t, err := time.Parse(time.RFC3339Nano, s)
		if !isString || err != nil {
			return checked{}, bad("want an RFC 3339 date and time, e.g. 2020-07-27T10:15:45Z")
		}
		return text(s, t.UTC().Format(time.RFC3339Nano)), nil
	case TypeURL:
		u, err := url.Parse(s)
		if !isString || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > MaxURL {
			return checked{}, bad("want an absolute http or https URL of at most 2000 characters")
		}
		return text(s, fold(s)), nil
	case TypeBool:
		b, ok := v.(bool)
		if isString {
			switch strings.ToLower(s) {
			case "true":
				b, ok = true, true
			case "false":
				b, ok = false, true
			}
		}
		if !ok {
			return checked{}, bad("want true or false")
		}
		f := strconv.FormatBool(b)
		return checked{stored: json.RawMessage(f), folded: f}, nil
	case TypeNumber:
		var f float64
		var err error
		switch n := v.(type) {
		case json.Number:
			f, err = n.Float64()
		case float64:
			f = n
		case string:
			f, err = strconv.ParseFloat(strings.TrimSpace(n), 64)
		default:
			err = errors.New("not a number")
		}
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return checked{}, bad("want a number")
		}
		c := strconv.FormatFloat(f, 'g', -1, 64)
		return checked{stored: json.RawMessage(c), folded: c}, nil
	}
	return checked{}, bad("unknown type")
}

// text answers a string value and its search form.
func text(s, folded string) checked {
	b, _ := json.Marshal(s) // a string always encodes
	return checked{stored: b, folded: folded}
}

// fold answers a text's search form: lower case, its first maxKey characters.
func fold(s string) string { return truncate(strings.ToLower(s), maxKey) }

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// PhoneDigits answers the digits of a phone number written as people write them (review R17): digits,
// the separators space - . ( ) / and a leading +; 1 to 20 digits.
func PhoneDigits(s string) (string, error) {
	if len(s) > maxPhone {
		return "", errors.New("a phone number has at most 64 characters")
	}
	var d strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			d.WriteRune(r)
		case r == '+' && strings.TrimSpace(s[:i]) == "":
		case strings.ContainsRune(" -.()/", r):
		default:
			return "", errors.New(strconv.Quote(s) + " is not a phone number: want digits, spaces, - . ( ) / and a leading +")
		}
	}
	switch n := d.Len(); {
	case n == 0:
		return "", errors.New(strconv.Quote(s) + " is not a phone number: it has no digit")
	case n > MaxPhoneDigits:
		return "", errors.New(strconv.Quote(s) + " is not a phone number: more than 20 digits")
	}
	return d.String(), nil
}
