package demo

import (
	"context"
	"fmt"
	"io"

	"gorm.io/gorm"

	"switchboard/models"
	"switchboard/models/cim"
)

// The Expertflow CIM demo: custom attributes beside the predefined first_name, last_name and phone1,
// three contacts, and a mapping that finds a caller by the customer number in call variable 1 (a call
// without it is found by its number, the default).
var (
	cimAttributes = []struct{ key, label, typ string }{
		{"email", "Email", cim.TypeEmail},
		{"customerNo", "Customer No", cim.TypeText},
		{"vip", "VIP", cim.TypeBool},
		{"mobile", "Mobile", cim.TypePhone},
	}
	cimContacts = []cim.Values{
		{"first_name": "John", "last_name": "Smith", "phone1": "+92 300 1234567", "email": "john.smith@example.com",
			"customerNo": "C-1001", "vip": true},
		{"first_name": "Sara", "last_name": "Khan", "phone1": "0321-7654321", "mobile": "0333-1112223", "customerNo": "C-1002"},
		{"first_name": "Ali", "last_name": "Raza", "phone1": "0345-5556667", "customerNo": "C-1003", "vip": false},
	}
)

// CIMMappingVariable is the call variable the demo's mapping reads the customer number from.
const CIMMappingVariable = "callVariable1"

// SeedCIM adds what is missing of the CIM demo and reports each step to out.
func SeedCIM(ctx context.Context, db *gorm.DB, out io.Writer) error {
	for _, a := range cimAttributes {
		_, err := cim.SaveAttribute(ctx, db, cim.AttributeInput{Key: &a.key, Label: &a.label, Type: &a.typ})
		if models.KindOf(err) == models.Conflict {
			continue // there already
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "CIM attribute %s (%s)\n", a.key, a.typ)
	}
	for _, v := range cimContacts {
		phone := v[cim.KeyPhone1].(string)
		if _, err := cim.ContactOf(ctx, db, phone); err == nil {
			continue
		} else if models.KindOf(err) != models.NotFound {
			return err
		}
		c, err := cim.SaveContact(ctx, db, v)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "CIM contact %s %s %s (_id %s)\n", v[cim.KeyFirstName], v[cim.KeyLastName], phone, cim.FormatID(c.ID))
	}
	_, err := cim.AddMapping(ctx, db, cim.MappingInput{CallVar: cim.SourceCallVariable, VarNumber: "1",
		CallVariable: CIMMappingVariable, Key: "customerNo"})
	switch models.KindOf(err) {
	case models.Conflict: // there already
	case models.Internal:
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "CIM mapping %s → customerNo\n", CIMMappingVariable)
	default:
		return err
	}
	return nil
}
