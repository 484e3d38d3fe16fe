package ictcore

import (
	"fmt"
	"strconv"

	"switchboard/convert"
	"switchboard/gen/ictcoreapi"
	"switchboard/models"
	"switchboard/models/ictcore"
)

func toAPIContact(c *ictcore.Contact) ictcoreapi.Contact {
	return ictcoreapi.Contact{
		ContactId: c.ID, FirstName: c.FirstName, LastName: &c.LastName, Phone: c.Phone, Email: &c.Email,
		Address: &c.Address, Custom1: &c.Custom1, Custom2: &c.Custom2, Custom3: &c.Custom3,
		Description: &c.Description, UserId: c.UserID,
	}
}

func toAPIContacts(cs []ictcore.Contact) []ictcoreapi.Contact { return convert.Each(cs, toAPIContact) }

func toModelContact(in *ictcoreapi.ContactInput, userID int64) *ictcore.Contact {
	c := &ictcore.Contact{
		FirstName: in.FirstName, LastName: convert.Deref(in.LastName), Phone: convert.Deref(in.Phone), Address: convert.Deref(in.Address),
		Custom1: convert.Deref(in.Custom1), Custom2: convert.Deref(in.Custom2), Custom3: convert.Deref(in.Custom3),
		Description: convert.Deref(in.Description), UserID: userID,
	}
	if in.Email != nil {
		c.Email = string(*in.Email)
	}
	return c
}

func toContactChanges(in *ictcoreapi.ContactUpdate) ictcore.ContactChanges {
	return ictcore.ContactChanges{
		FirstName: in.FirstName, LastName: in.LastName, Phone: in.Phone, Email: in.Email, Address: in.Address,
		Custom1: in.Custom1, Custom2: in.Custom2, Custom3: in.Custom3, Description: in.Description,
	}
}

func toAPIGroup(g *ictcore.Group) ictcoreapi.Group {
	return ictcoreapi.Group{
		GroupId: g.ID, Name: g.Name, Description: g.Description, ContactTotal: g.ContactTotal, UserId: g.UserID,
	}
}

func toAPIGroups(gs []ictcore.Group) []ictcoreapi.Group { return convert.Each(gs, toAPIGroup) }

// contactFilter collects the contact search parameters; list and group-contacts share them.
type contactFilter struct {
	Owner                                                                ictcore.Owner
	GroupID, ContactID, UserID, CreatedBy, Before, After, AfterContactID *int64
	Phone, Email, FirstName, LastName                                    *string
	Limit                                                                *int
	Offset                                                               *int64
	Count                                                                *bool
}

func (f contactFilter) toModel() ictcore.ContactFilter {
	return ictcore.ContactFilter{Owner: f.Owner,
		GroupID: f.GroupID, ContactID: f.ContactID, UserID: firstSet(f.UserID, f.CreatedBy), Phone: f.Phone,
		Email: f.Email, FirstName: f.FirstName, LastName: f.LastName, Before: f.Before, After: f.After,
		ListQuery: listQuery(f.Limit, f.Offset, f.AfterContactID, f.Count),
	}
}

// firstSet answers user_id, or created_by when only that is given: ICTCore treats them as one filter.
func firstSet(userID, createdBy *int64) *int64 {
	if userID != nil {
		return userID
	}
	return createdBy
}

func listQuery(limit *int, offset, after *int64, count *bool) models.ListQuery {
	return models.ListQuery{Limit: convert.Deref(limit), Offset: convert.Deref(offset), After: after, Count: convert.Deref(count)}
}

// idAnswer is a create's answer, T being the contract's oneOf of `{"<key>": id}` and the bare id: the
// object by default, the bare id when the server runs with ICTCORE_CREATE_ANSWER=bare (review R10). A
// union is set through its JSON, which it keeps as it is, so this cannot fail.
func idAnswer[T any, PT interface {
	*T
	UnmarshalJSON([]byte) error
}](bare bool, key string, id int64) T {
	b := strconv.AppendInt(nil, id, 10)
	if !bare {
		b = fmt.Appendf(nil, "{%q:%d}", key, id)
	}
	var v T
	_ = PT(&v).UnmarshalJSON(b)
	return v
}
