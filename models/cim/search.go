package cim

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"gorm.io/gorm"

	"switchboard/models"
)

// ListContacts answers a page of all contacts in id order (creation order): the first page, or the page
// after lq.After (loadMore's keyset).
func ListContacts(ctx context.Context, db *gorm.DB, lq models.ListQuery) (models.PageOf[Contact], error) {
	return listContacts(db.WithContext(ctx), lq)
}

// FindByName answers a page of the contacts whose first name, last name or "first last" starts with name,
// ignoring case (ambiguity 22).
func FindByName(ctx context.Context, db *gorm.DB, name string, lq models.ListQuery) (models.PageOf[Contact], error) {
	k := fold(strings.TrimSpace(name))
	byName := func(q *gorm.DB) *gorm.DB {
		first, last, full := prefix(q, "first_key"), prefix(q, "last_key"), prefix(q, "full_key")
		return q.Where("(("+first+") OR ("+last+") OR ("+full+"))", k, k+maxRune, k, k+maxRune, k, k+maxRune)
	}
	return listContacts(db.WithContext(ctx), lq, byName)
}

// Search answers a page of the contacts that match every term (ambiguity 22, review R20): `phone` matches
// any phone-type attribute by digits; any other term is an attribute key: text attributes match by a
// case-insensitive prefix, phone attributes by digits, the others by equal value. Empty terms are no
// terms; no terms list every contact. A term that is not an attribute, or whose value does not fit the
// attribute's type, is Invalid.
func Search(ctx context.Context, db *gorm.DB, terms Values, lq models.ListQuery) (models.PageOf[Contact], error) {
	tx := db.WithContext(ctx)
	s, err := loadSchema(tx, false)
	if err != nil {
		return models.PageOf[Contact]{}, err
	}
	where, err := s.termsWhere(terms)
	if err != nil {
		return models.PageOf[Contact]{}, err
	}
	return listContacts(tx, lq, where...)
}

// maxRune ends the range of strings that start with a prefix.
const maxRune = "\U0010FFFF"

// prefix answers SQL that keeps rows whose col is in [?, ?) in byte order, which the column's index
// (created in byte order) serves.
func prefix(q *gorm.DB, col string) string {
	if models.IsPostgres(q) {
		col += ` COLLATE "C"`
	}
	return col + " >= ? AND " + col + " < ?"
}

// termsWhere answers one filter per non-empty term.
func (s *Schema) termsWhere(terms Values) ([]models.Where, error) {
	keys := make([]string, 0, len(terms))
	for k := range terms {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var where []models.Where
	for _, k := range keys {
		v := terms[k]
		if v == "" {
			continue
		}
		if k == KeyPhone {
			d, err := PhoneDigits(asString(v))
			if err != nil {
				return nil, models.Errorf(models.Invalid, "search term phone: %v", err)
			}
			where = append(where, func(q *gorm.DB) *gorm.DB {
				return q.Where("cim_contacts.id IN (SELECT contact_id FROM cim_phones WHERE digits = ?)", d)
			})
			continue
		}
		a := s.Attribute(k)
		if a == nil {
			return nil, models.Errorf(models.Invalid, "search term %q is not phone nor an attribute of the contact schema (GET /getSchema lists them)", k)
		}
		c, err := a.check(v)
		if err != nil {
			return nil, err
		}
		id, folded := a.ID, c.folded
		if a.Type == TypeText {
			where = append(where, func(q *gorm.DB) *gorm.DB {
				return q.Where("cim_contacts.id IN (SELECT contact_id FROM cim_values WHERE attr_id = ? AND "+prefix(q, "folded")+")",
					id, folded, folded+maxRune)
			})
			continue
		}
		where = append(where, func(q *gorm.DB) *gorm.DB {
			return q.Where("cim_contacts.id IN (SELECT contact_id FROM cim_values WHERE attr_id = ? AND folded = ?)", id, folded)
		})
	}
	return where, nil
}

// asString answers a term's value as text (a number as its digits).
func asString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// listContacts answers a page of contacts matching where, in id order, with their values.
func listContacts(tx *gorm.DB, lq models.ListQuery, where ...models.Where) (models.PageOf[Contact], error) {
	rows, err := models.List(tx.Statement.Context, tx.Model(&contactRow{}), "cim_contacts.id", lq,
		func(r *contactRow) int64 { return r.ID }, where...)
	if err != nil {
		return models.PageOf[Contact]{}, err
	}
	page := models.PageOf[Contact]{Total: rows.Total, More: rows.More, NextAfter: rows.NextAfter, NextOffset: rows.NextOffset,
		Items: make([]Contact, len(rows.Items))}
	if len(rows.Items) == 0 {
		return page, nil
	}
	s, err := loadSchema(tx, false)
	if err != nil {
		return page, err
	}
	ids := make([]int64, len(rows.Items))
	for i, r := range rows.Items {
		ids[i] = r.ID
	}
	vals, err := readValues(tx, s, ids)
	if err != nil {
		return page, err
	}
	for i, id := range ids {
		page.Items[i] = Contact{ID: id, Values: vals[id]}
	}
	return page, nil
}
