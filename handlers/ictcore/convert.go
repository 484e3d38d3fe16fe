package ictcore

import (
	"switchboard/gen/ictcoreapi"
	"switchboard/models"
)

func toAPIContact(c *models.Contact) ictcoreapi.Contact {
	return ictcoreapi.Contact{
		ContactId: c.ID, FirstName: c.FirstName, LastName: &c.LastName, Phone: c.Phone, Email: &c.Email,
		Address: &c.Address, Custom1: &c.Custom1, Custom2: &c.Custom2, Custom3: &c.Custom3,
		Description: &c.Description, UserId: c.UserID,
	}
}

func toAPIContacts(cs []models.Contact) []ictcoreapi.Contact {
	out := make([]ictcoreapi.Contact, len(cs))
	for i := range cs {
		out[i] = toAPIContact(&cs[i])
	}
	return out
}

func toModelContact(in *ictcoreapi.ContactInput, userID int64) *models.Contact {
	c := &models.Contact{
		FirstName: in.FirstName, LastName: deref(in.LastName), Phone: deref(in.Phone), Address: deref(in.Address),
		Custom1: deref(in.Custom1), Custom2: deref(in.Custom2), Custom3: deref(in.Custom3),
		Description: deref(in.Description), UserID: userID,
	}
	if in.Email != nil {
		c.Email = string(*in.Email)
	}
	return c
}

func toContactChanges(in *ictcoreapi.ContactUpdate) models.ContactChanges {
	return models.ContactChanges{
		FirstName: in.FirstName, LastName: in.LastName, Phone: in.Phone, Email: in.Email, Address: in.Address,
		Custom1: in.Custom1, Custom2: in.Custom2, Custom3: in.Custom3, Description: in.Description,
	}
}

func toAPIGroup(g *models.Group) ictcoreapi.Group {
	return ictcoreapi.Group{
		GroupId: g.ID, Name: g.Name, Description: g.Description, ContactTotal: g.ContactTotal, UserId: g.UserID,
	}
}

func toAPIGroups(gs []models.Group) []ictcoreapi.Group {
	out := make([]ictcoreapi.Group, len(gs))
	for i := range gs {
		out[i] = toAPIGroup(&gs[i])
	}
	return out
}

// contactFilter collects the contact search parameters; list and group-contacts share them.
type contactFilter struct {
	ContactID, UserID, CreatedBy, Before, After, AfterContactID *int64
	Phone, Email, FirstName, LastName                           *string
	Limit                                                       *int
	Offset                                                      *int64
}

func (f contactFilter) toModel(groupID *int64) models.ContactFilter {
	userID := f.UserID
	if userID == nil {
		userID = f.CreatedBy // ICTCore treats created_by as user_id
	}
	return models.ContactFilter{
		GroupID: groupID, ContactID: f.ContactID, UserID: userID, Phone: f.Phone, Email: f.Email,
		FirstName: f.FirstName, LastName: f.LastName, Before: f.Before, After: f.After,
		AfterContactID: f.AfterContactID, Page: page(f.Limit, f.Offset),
	}
}

func page(limit *int, offset *int64) models.Page {
	return models.Page{Limit: deref(limit), Offset: deref(offset)}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// totalHeader answers the X-Total-Count value, or nil (no header) when the store did not count (-1).
func totalHeader(total int64) *int64 {
	if total < 0 {
		return nil
	}
	return &total
}
