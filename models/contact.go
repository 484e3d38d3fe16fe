package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Contact is an ICTCore contact: someone to call, fax, text or e-mail.
type Contact struct {
	ID          int64 `gorm:"primaryKey;column:contact_id"`
	FirstName   string
	LastName    string
	Phone       string
	PhoneRev    string // Phone reversed, kept in step by every write (suffix search)
	Email       string
	Address     string
	Custom1     string
	Custom2     string
	Custom3     string
	Description string
	UserID      int64
	CreatedAt   int64
	UpdatedAt   int64
}

// ContactChanges holds the fields an update sets; nil leaves a field as it is.
type ContactChanges struct {
	FirstName, LastName, Phone, Email, Address *string
	Custom1, Custom2, Custom3, Description     *string
}

// ContactFilter is the whitelist of ICTCore's contact search parameters.
type ContactFilter struct {
	GroupID, ContactID, UserID *int64
	Phone, Email               *string // phone: ends with; email: equals
	FirstName, LastName        *string // contains, case-insensitive
	Before, After              *int64  // created at, unix seconds
	AfterContactID             *int64  // keyset pagination
	Page
}

// CreateContact stores c and sets its id.
func CreateContact(ctx context.Context, db *gorm.DB, c *Contact) error {
	now := time.Now().Unix()
	c.ID, c.CreatedAt, c.UpdatedAt, c.PhoneRev = 0, now, now, reverse(c.Phone)
	return db.WithContext(ctx).Create(c).Error
}

// GetContact loads one contact.
func GetContact(ctx context.Context, db *gorm.DB, id int64) (*Contact, error) {
	var c Contact
	err := db.WithContext(ctx).Where("contact_id = ?", id).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("contact %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// UpdateContact applies ch to contact id and answers the result.
func UpdateContact(ctx context.Context, db *gorm.DB, id int64, ch ContactChanges) (*Contact, error) {
	set := map[string]any{"updated_at": time.Now().Unix()}
	for col, v := range map[string]*string{
		"first_name": ch.FirstName, "last_name": ch.LastName, "phone": ch.Phone, "email": ch.Email,
		"address": ch.Address, "custom1": ch.Custom1, "custom2": ch.Custom2, "custom3": ch.Custom3,
		"description": ch.Description,
	} {
		if v != nil {
			set[col] = *v
		}
	}
	if ch.Phone != nil {
		set["phone_rev"] = reverse(*ch.Phone)
	}
	res := db.WithContext(ctx).Model(&Contact{}).Where("contact_id = ?", id).Updates(set)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("contact %d: %w", id, ErrNotFound)
	}
	return GetContact(ctx, db, id)
}

// DeleteContact removes a contact and its group memberships, keeping the groups' counts right.
func DeleteContact(ctx context.Context, db *gorm.DB, id int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE contact_groups SET contact_total = contact_total - 1
			WHERE group_id IN (SELECT group_id FROM contact_links WHERE contact_id = ?)`, id).Error; err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM contact_links WHERE contact_id = ?", id).Error; err != nil {
			return err
		}
		res := tx.Exec("DELETE FROM contacts WHERE contact_id = ?", id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("contact %d: %w", id, ErrNotFound)
		}
		return nil
	})
}

// ListContacts answers one page of the contacts that match f, ordered by id, and how many match in all.
// A keyset page (AfterContactID set) skips the count and answers total -1: counting a million rows on
// every page is what makes deep paging slow, and a client walking by keyset does not need it.
func ListContacts(ctx context.Context, db *gorm.DB, f ContactFilter) ([]Contact, int64, error) {
	q := contactQuery(db.WithContext(ctx), f)
	total := int64(-1)
	if f.AfterContactID == nil {
		if err := q.Count(&total).Error; err != nil {
			return nil, 0, err
		}
	}
	var out []Contact
	if err := f.Page.apply(q.Order(idColumn(f.GroupID))).Find(&out).Error; err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// idColumn names the contact id to order and page by. Within a group it is the link's, so Postgres walks
// the (group_id, contact_id) key in order instead of joining the whole group first.
func idColumn(groupID *int64) string {
	if groupID != nil {
		return "contact_links.contact_id"
	}
	return "contacts.contact_id"
}

// EachGroupContact calls fn for every contact of the group in id order, reading in batches so memory stays
// flat however large the group is.
func EachGroupContact(ctx context.Context, db *gorm.DB, groupID int64, fn func(*Contact) error) error {
	const batch = 1000
	var last int64
	for {
		var cs []Contact
		err := db.WithContext(ctx).Model(&Contact{}).
			Joins("JOIN contact_links ON contact_links.contact_id = contacts.contact_id AND contact_links.group_id = ?", groupID).
			Where("contact_links.contact_id > ?", last).Order("contact_links.contact_id").Limit(batch).Find(&cs).Error
		if err != nil {
			return err
		}
		for i := range cs {
			if err := fn(&cs[i]); err != nil {
				return err
			}
		}
		if len(cs) < batch {
			return nil
		}
		last = cs[len(cs)-1].ID
	}
}

func contactQuery(db *gorm.DB, f ContactFilter) *gorm.DB {
	q := db.Model(&Contact{})
	if f.GroupID != nil {
		q = q.Joins("JOIN contact_links ON contact_links.contact_id = contacts.contact_id AND contact_links.group_id = ?", *f.GroupID)
	}
	q = eqInt(q, "contacts.contact_id", f.ContactID)
	q = eqInt(q, "contacts.user_id", f.UserID)
	if f.Phone != nil {
		// "Ends with" is "reversed, starts with": a range on the reversed column's index.
		from := reverse(*f.Phone)
		col := "contacts.phone_rev"
		if IsPostgres(db) {
			col += ` COLLATE "C"`
		}
		q = q.Where(col+" >= ? AND "+col+" < ?", from, from+"\U0010FFFF")
	}
	if f.Email != nil {
		q = q.Where("contacts.email = ?", *f.Email)
	}
	if f.FirstName != nil {
		q = q.Where(`LOWER(contacts.first_name) LIKE ? ESCAPE '\'`, contains(*f.FirstName))
	}
	if f.LastName != nil {
		q = q.Where(`LOWER(contacts.last_name) LIKE ? ESCAPE '\'`, contains(*f.LastName))
	}
	q = createdBetween(q, "contacts.created_at", f.Before, f.After)
	if f.AfterContactID != nil {
		q = q.Where(idColumn(f.GroupID)+" > ?", *f.AfterContactID)
	}
	return q
}

// reverse answers s with its characters in reverse order.
func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}
