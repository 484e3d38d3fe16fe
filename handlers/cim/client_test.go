package cim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"switchboard/apitest"
	"switchboard/gen/cimapi"
)

func ptr[T any](v T) *T { return &v }

// TestGeneratedClient drives every CIM operation with the generated Go client over a real listener, as a
// partner would: custom attributes travel as AdditionalProperties, errors arrive as CimError.
func TestGeneratedClient(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		srv := httptest.NewServer(e.Handler)
		defer srv.Close()
		ctx := context.Background()
		withKey := func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+e.key)
			return nil
		}
		c, err := cimapi.NewClientWithResponses(srv.URL+"/cim", cimapi.WithRequestEditorFn(withKey))
		if err != nil {
			t.Fatal(err)
		}
		must := func(what string, status int, body []byte, err error) {
			t.Helper()
			if err != nil || status != http.StatusOK {
				t.Fatalf("%s: %v %d %s", what, err, status, body)
			}
		}

		attr, err := c.SaveSchemaWithResponse(ctx, cimapi.SaveSchemaJSONRequestBody{Key: "customerNo", Label: ptr("Customer No"), Type: ptr("Text")})
		must("saveSchema", attr.StatusCode(), attr.Body, err)
		renamed, err := c.UpdateSchemaAttributeWithResponse(ctx, attr.JSON200.UnderscoreId, cimapi.SchemaAttributeUpdate{Label: ptr("Customer number")})
		must("updateSchemaAttribute", renamed.StatusCode(), renamed.Body, err)
		schema, err := c.GetSchemaWithResponse(ctx, nil)
		must("getSchema", schema.StatusCode(), schema.Body, err)
		if len(*schema.JSON200) != 4 || (*schema.JSON200)[3].Label != "Customer number" || (*schema.JSON200)[3].Type != cimapi.AttributeType("text") {
			t.Fatalf("schema: %s", schema.Body)
		}

		var no cimapi.AttributeValue
		_ = no.FromAttributeValue0("A-100")
		saved, err := c.SaveContactWithResponse(ctx, cimapi.SaveContactJSONRequestBody{FirstName: ptr("John"), Phone1: "0300-1234567",
			AdditionalProperties: map[string]cimapi.AttributeValue{"customerNo": no}})
		must("saveContact", saved.StatusCode(), saved.Body, err)
		john := saved.JSON200
		if v, _ := john.AdditionalProperties["customerNo"].AsAttributeValue0(); v != "A-100" {
			t.Fatalf("custom attribute lost on save: %s", saved.Body)
		}
		dup, err := c.SaveContactWithResponse(ctx, cimapi.SaveContactJSONRequestBody{Phone1: "03001234567"})
		if err != nil || dup.JSON409 == nil || dup.JSON409.StatusCode != 409 {
			t.Fatalf("duplicate phone through the client: %v %s", err, dup.Body)
		}
		got, err := c.GetContactWithResponse(ctx, john.UnderscoreId)
		must("getContact", got.StatusCode(), got.Body, err)
		if v, _ := got.JSON200.AdditionalProperties["customerNo"].AsAttributeValue0(); v != "A-100" || *got.JSON200.FirstName != "John" {
			t.Fatalf("getContact: %s", got.Body)
		}
		upd, err := c.UpdateContactWithResponse(ctx, john.UnderscoreId, cimapi.UpdateContactJSONRequestBody{LastName: ptr("Smith")})
		must("updateContact", upd.StatusCode(), upd.Body, err)
		if *upd.JSON200.LastName != "Smith" || *upd.JSON200.FirstName != "John" || len(upd.JSON200.AdditionalProperties) != 1 {
			t.Fatalf("partial update through the client: %s", upd.Body)
		}
		byName, err := c.GetContactByNameWithResponse(ctx, "john sm", nil)
		must("getContactByName", byName.StatusCode(), byName.Body, err)
		found, err := c.GetContactsBySearchTermsWithResponse(ctx, nil, cimapi.GetContactsBySearchTermsJSONRequestBody{Phone: ptr("+0300 1234567")})
		must("getContactsBySearchTerms", found.StatusCode(), found.Body, err)
		list, err := c.GetContactListWithResponse(ctx, &cimapi.GetContactListParams{Limit: ptr(1)})
		must("getContactList", list.StatusCode(), list.Body, err)
		more, err := c.LoadMoreContactsWithResponse(ctx, john.UnderscoreId, nil)
		must("loadMoreContacts", more.StatusCode(), more.Body, err)
		if len(*byName.JSON200) != 1 || len(*found.JSON200) != 1 || len(*list.JSON200) != 1 || len(*more.JSON200) != 0 {
			t.Fatalf("lists: %s %s %s %s", byName.Body, found.Body, list.Body, more.Body)
		}

		cond, err := c.AddMappingConditionWithResponse(ctx, cimapi.AddMappingConditionJSONRequestBody{CallVar: "callVariable", VarNumber: ptr("3"), Key: "customerNo"})
		must("addMappingCondition", cond.StatusCode(), cond.Body, err)
		cond2, err := c.UpdateMappingConditionWithResponse(ctx, cond.JSON200.UnderscoreId, cimapi.UpdateMappingConditionJSONRequestBody{CallVar: "ani", Key: "phone"})
		must("updateMappingCondition", cond2.StatusCode(), cond2.Body, err)
		conds, err := c.GetMappingWithResponse(ctx, nil)
		must("getMapping", conds.StatusCode(), conds.Body, err)
		if len(*conds.JSON200) != 1 || (*conds.JSON200)[0].Key != "phone" {
			t.Fatalf("mapping: %s", conds.Body)
		}
		gone, err := c.DeleteMappingConditionWithResponse(ctx, cond.JSON200.UnderscoreId)
		must("deleteMappingCondition", gone.StatusCode(), gone.Body, err)

		l, err := c.UpdateOrSaveInteractionTreeWithResponse(ctx, "16777321", cimapi.UpdateOrSaveInteractionTreeJSONRequestBody{
			Ani: ptr("03001234567"), Interaction: cimapi.InteractionInput{Type: ptr("INBOUND"), AgentId: ptr("agent1001"), InteractionType: ptr("AGENT")}})
		must("updateOrSaveInteractionTree", l.StatusCode(), l.Body, err)
		ts, err := c.LoadInteractionsWithResponse(ctx, john.UnderscoreId, nil)
		must("loadInteractions", ts.StatusCode(), ts.Body, err)
		if len(*ts.JSON200) != 1 || (*ts.JSON200)[0].Interactions[0].UnderscoreId != l.JSON200.UnderscoreId {
			t.Fatalf("loadInteractions: %s", ts.Body)
		}

		del, err := c.DeleteContactWithResponse(ctx, john.UnderscoreId)
		must("deleteContact", del.StatusCode(), del.Body, err)
		if v, _ := del.JSON200.AdditionalProperties["customerNo"].AsAttributeValue0(); v != "A-100" {
			t.Fatalf("deleteContact answer: %s", del.Body)
		}
		dropped, err := c.DeleteSchemaAttributeWithResponse(ctx, attr.JSON200.UnderscoreId)
		must("deleteSchemaAttribute", dropped.StatusCode(), dropped.Body, err)
		missing, err := c.GetContactWithResponse(ctx, john.UnderscoreId)
		if err != nil || missing.JSON404 == nil || missing.JSON404.StatusCode != 404 {
			t.Fatalf("404 through the client: %v %s", err, missing.Body)
		}
	})
}
