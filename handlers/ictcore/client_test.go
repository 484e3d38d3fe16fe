package ictcore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"switchboard/apitest"
	"switchboard/gen/ictcoreapi"
)

// TestGeneratedClientRoundTrip drives Switchboard with the generated Go client, as a partner would:
// authenticate, create a contact, read it back, over a real HTTP listener.
func TestGeneratedClientRoundTrip(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := apitest.New(t, kind)
		srv := httptest.NewServer(e.Handler)
		defer srv.Close()
		ctx := context.Background()

		anon, err := ictcoreapi.NewClientWithResponses(srv.URL + "/ictcore")
		if err != nil {
			t.Fatal(err)
		}
		auth, err := anon.AuthenticateWithResponse(ctx, ictcoreapi.AuthenticateJSONRequestBody{Username: "admin", Password: apitest.AdminPassword})
		if err != nil || auth.JSON200 == nil {
			t.Fatalf("authenticate: %v %s", err, auth.Body)
		}
		bearer := func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+auth.JSON200.Token)
			return nil
		}
		c, err := ictcoreapi.NewClientWithResponses(srv.URL+"/ictcore", ictcoreapi.WithRequestEditorFn(bearer))
		if err != nil {
			t.Fatal(err)
		}
		phone := "03001234567"
		created, err := c.CreateContactWithResponse(ctx, ictcoreapi.CreateContactJSONRequestBody{FirstName: "Grace", Phone: &phone})
		if err != nil || created.JSON200 == nil {
			t.Fatalf("create: %v %d %s", err, created.StatusCode(), created.Body)
		}
		obj, err := created.JSON200.AsContactCreatedObject() // the answer is a oneOf with the bare id (review R10)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.GetContactWithResponse(ctx, obj.ContactId)
		if err != nil || got.JSON200 == nil || got.JSON200.FirstName != "Grace" || got.JSON200.Phone != phone {
			t.Fatalf("read back: %v %s", err, got.Body)
		}
		missing, err := c.GetContactWithResponse(ctx, 987654)
		if err != nil || missing.JSON404 == nil || missing.JSON404.Error.Code != 404 {
			t.Fatalf("404 through the client: %v %s", err, missing.Body)
		}
	})
}
