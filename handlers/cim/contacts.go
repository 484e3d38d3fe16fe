package cim

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"switchboard/convert"
	"switchboard/gen/cimapi"
	"switchboard/models"
	"switchboard/models/cim"
	"switchboard/server"
)

// GetContactByName (GET /contacts/getContactByName/{name}) answers the contacts whose first, last or full
// name starts with name.
func (h *Handler) GetContactByName(ctx context.Context, req cimapi.GetContactByNameRequestObject) (cimapi.GetContactByNameResponseObject, error) {
	page, err := cim.FindByName(ctx, h.db, req.Name, window(req.Params.Limit, req.Params.Offset, req.Params.Count))
	if err != nil {
		return nil, err
	}
	return cimapi.GetContactByName200JSONResponse{Body: convert.Each(page.Items, toContact),
		Headers: cimapi.GetContactByName200ResponseHeaders{Link: server.PageLink(ctx, page, ""), XTotalCount: total(page)}}, nil
}

// GetContactsBySearchTerms (POST /contacts/getContactsBySearchTerms) answers the contacts that match every
// term; no body or no terms list every contact.
func (h *Handler) GetContactsBySearchTerms(ctx context.Context, req cimapi.GetContactsBySearchTermsRequestObject) (cimapi.GetContactsBySearchTermsResponseObject, error) {
	var terms cim.Values
	if req.Body != nil {
		var err error
		if terms, err = toValues(req.Body); err != nil {
			return nil, err
		}
	}
	page, err := cim.Search(ctx, h.db, terms, window(req.Params.Limit, req.Params.Offset, req.Params.Count))
	if err != nil {
		return nil, err
	}
	return cimapi.GetContactsBySearchTerms200JSONResponse{Body: convert.Each(page.Items, toContact),
		Headers: cimapi.GetContactsBySearchTerms200ResponseHeaders{Link: server.PageLink(ctx, page, ""), XTotalCount: total(page)}}, nil
}

// GetContactList (GET /getContactList) answers the first page of all contacts in _id order.
func (h *Handler) GetContactList(ctx context.Context, req cimapi.GetContactListRequestObject) (cimapi.GetContactListResponseObject, error) {
	page, err := cim.ListContacts(ctx, h.db, contactWindow(req.Params.Limit, req.Params.Count, nil))
	if err != nil {
		return nil, err
	}
	return cimapi.GetContactList200JSONResponse{Body: convert.Each(page.Items, toContact),
		Headers: cimapi.GetContactList200ResponseHeaders{Link: loadMoreLink(ctx, page), XTotalCount: total(page)}}, nil
}

// LoadMoreContacts (GET /contacts/loadMore/{last_id}) answers the page of contacts after last_id, which
// need not exist any more.
func (h *Handler) LoadMoreContacts(ctx context.Context, req cimapi.LoadMoreContactsRequestObject) (cimapi.LoadMoreContactsResponseObject, error) {
	after, _, _ := cim.ParseID(req.LastId) // the contract holds it to 24 hex digits
	page, err := cim.ListContacts(ctx, h.db, contactWindow(req.Params.Limit, req.Params.Count, &after))
	if err != nil {
		return nil, err
	}
	return cimapi.LoadMoreContacts200JSONResponse{Body: convert.Each(page.Items, toContact),
		Headers: cimapi.LoadMoreContacts200ResponseHeaders{Link: loadMoreLink(ctx, page), XTotalCount: total(page)}}, nil
}

// contactWindow is the list query of the contact list: 25 a page unless the request says.
func contactWindow(limit *int, count *bool, after *int64) models.ListQuery {
	lq := models.ListQuery{Limit: convert.Deref(limit), Count: convert.Deref(count), After: after}
	if lq.Limit == 0 {
		lq.Limit = contactListLimit
	}
	return lq
}

// GetContact (GET /contacts/{contact_id}) answers one contact.
func (h *Handler) GetContact(ctx context.Context, req cimapi.GetContactRequestObject) (cimapi.GetContactResponseObject, error) {
	n, err := id(req.ContactId, "contact")
	if err != nil {
		return nil, err
	}
	c, err := cim.GetContact(ctx, h.db, n)
	if err != nil {
		return nil, err
	}
	return contactAnswer(toContact(c)), nil
}

// SaveContact (POST /saveContact) stores a new contact.
func (h *Handler) SaveContact(ctx context.Context, req cimapi.SaveContactRequestObject) (cimapi.SaveContactResponseObject, error) {
	in, err := toValues(req.Body)
	if err != nil {
		return nil, err
	}
	c, err := cim.SaveContact(ctx, h.db, in)
	if err != nil {
		return nil, err
	}
	return contactAnswer(toContact(c)), nil
}

// UpdateContact (PUT /contacts/{contact_id}) changes the values the body carries.
func (h *Handler) UpdateContact(ctx context.Context, req cimapi.UpdateContactRequestObject) (cimapi.UpdateContactResponseObject, error) {
	n, err := id(req.ContactId, "contact")
	if err != nil {
		return nil, err
	}
	in, err := toValues(req.Body)
	if err != nil {
		return nil, err
	}
	c, err := cim.UpdateContact(ctx, h.db, n, in)
	if err != nil {
		return nil, err
	}
	return contactAnswer(toContact(c)), nil
}

// DeleteContact (DELETE /contacts/{contact_id}) deletes a contact and answers it as it was.
func (h *Handler) DeleteContact(ctx context.Context, req cimapi.DeleteContactRequestObject) (cimapi.DeleteContactResponseObject, error) {
	n, err := id(req.ContactId, "contact")
	if err != nil {
		return nil, err
	}
	c, err := cim.DeleteContact(ctx, h.db, n)
	if err != nil {
		return nil, err
	}
	return contactAnswer(toContact(c)), nil
}

// contactAnswer is the 200 answer of the operations that answer one contact. The generated
// <Op>200JSONResponse types are defined as Contact, which drops Contact's MarshalJSON and with it every
// custom attribute (AdditionalProperties); this answer encodes the Contact itself.
type contactAnswer cimapi.Contact

func (a contactAnswer) visit(w http.ResponseWriter) error {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(cimapi.Contact(a)); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := buf.WriteTo(w)
	return err
}

func (a contactAnswer) VisitGetContactResponse(w http.ResponseWriter) error    { return a.visit(w) }
func (a contactAnswer) VisitSaveContactResponse(w http.ResponseWriter) error   { return a.visit(w) }
func (a contactAnswer) VisitUpdateContactResponse(w http.ResponseWriter) error { return a.visit(w) }
func (a contactAnswer) VisitDeleteContactResponse(w http.ResponseWriter) error { return a.visit(w) }
