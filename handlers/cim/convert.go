package cim

import (
	"bytes"
	"encoding/json"

	"switchboard/convert"
	"switchboard/gen/cimapi"
	"switchboard/models/cim"
)

// toValues answers a contact body (ContactInput, ContactUpdate, SearchOptions) as models/cim's Values:
// every property the client sent, numbers kept as json.Number.
func toValues(body json.Marshaler) (cim.Values, error) {
	raw, err := body.MarshalJSON()
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v cim.Values
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// toContact answers a contact as the contract's Contact.
func toContact(c *cim.Contact) cimapi.Contact {
	out := cimapi.Contact{UnderscoreId: cim.FormatID(c.ID)}
	for k, v := range c.Values {
		s, isString := v.(string)
		switch {
		case k == cim.KeyFirstName && isString:
			out.FirstName = &s
		case k == cim.KeyLastName && isString:
			out.LastName = &s
		case k == cim.KeyPhone1 && isString:
			out.Phone1 = s
		default:
			if out.AdditionalProperties == nil {
				out.AdditionalProperties = map[string]cimapi.AttributeValue{}
			}
			out.AdditionalProperties[k] = attributeValue(v)
		}
	}
	return out
}

// attributeValue answers a stored value (a string, bool or float64) as the contract's AttributeValue.
func attributeValue(v any) cimapi.AttributeValue {
	var out cimapi.AttributeValue
	switch v := v.(type) {
	case bool:
		_ = out.FromAttributeValue2(v)
	case float64:
		_ = out.FromAttributeValue1(v)
	case string:
		_ = out.FromAttributeValue0(v)
	}
	return out
}

// toAttribute answers a schema attribute as the contract's SchemaAttribute.
func toAttribute(a *cim.Attribute) cimapi.SchemaAttribute {
	return cimapi.SchemaAttribute{UnderscoreId: cim.FormatID(a.ID), Key: a.Key, Label: a.Label,
		Type: cimapi.AttributeType(a.Type), Predefined: a.Predefined}
}

// toMapping answers a mapping condition as the contract's MappingCondition.
func toMapping(m *cim.Mapping) cimapi.MappingCondition {
	return cimapi.MappingCondition{UnderscoreId: cim.FormatID(m.ID), CallVar: cimapi.CallVarSource(m.CallVar),
		CallVariable: optional(m.CallVariable), Key: m.Key, VarNumber: optional(m.VarNumber)}
}

// fromMapping answers a condition's body as models/cim's input.
func fromMapping(in *cimapi.MappingConditionInput) cim.MappingInput {
	return cim.MappingInput{CallVar: string(in.CallVar), CallVariable: convert.Deref(in.CallVariable),
		VarNumber: convert.Deref(in.VarNumber), Key: in.Key}
}

// toLeg answers an interaction leg as the contract's Interaction.
func toLeg(l *cim.Leg) cimapi.Interaction {
	return cimapi.Interaction{UnderscoreId: cim.FormatID(l.ID), Type: l.Type, AgentId: optional(l.AgentID),
		StartTime: l.StartTime, CallDuration: l.CallDuration, IvrTrail: l.IvrTrail, CallId: &l.CallID,
		CallDisposition: l.CallDisposition, TeamName: l.TeamName, Csq: l.Csq,
		InteractionType: optional(l.InteractionType), WrapUp: l.WrapUp}
}

// fromLeg answers a leg's body as models/cim's input.
func fromLeg(in *cimapi.InteractionInput) cim.LegInput {
	return cim.LegInput{Type: in.Type, AgentID: in.AgentId, StartTime: in.StartTime, CallDuration: in.CallDuration,
		IvrTrail: in.IvrTrail, CallID: in.CallId, CallDisposition: in.CallDisposition, TeamName: in.TeamName,
		Csq: in.Csq, InteractionType: in.InteractionType, WrapUp: in.WrapUp}
}

// toTree answers an interaction tree with its legs as the contract's InteractionTree.
func toTree(t *cim.Tree) cimapi.InteractionTree {
	out := cimapi.InteractionTree{UnderscoreId: cim.FormatID(t.ID), CallId: t.CallID, PhoneNumber: optional(t.Phone),
		Interactions: make([]cimapi.Interaction, len(t.Legs))}
	if t.ContactID != nil {
		c := cim.FormatID(*t.ContactID)
		out.ContactId = &c
	}
	for i := range t.Legs {
		out.Interactions[i] = toLeg(&t.Legs[i])
	}
	return out
}

// optional answers nil for "", else a pointer to s: absent in the answer.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
