package demo

import (
	"context"
	"fmt"
	"io"

	"gorm.io/gorm"

	"switchboard/models"
	"switchboard/models/accolades"
)

// The Accolades demo: account 1001 (its REST API password below) with two agents, one with the document's
// own CRM id f8cb549544 and the document's configuration texts, so the README's WebSocket walk-through can
// use the document's messages as they are.
const (
	AccoladesAccount  = "1001"
	AccoladesPassword = "accolades-demo"
	AccoladesCrmAna   = "f8cb549544" // the document's example idCrm
	AccoladesCrmBob   = "b0b0c0ffee"
)

// SeedAccolades adds what is missing of the Accolades demo and reports each step to out.
func SeedAccolades(ctx context.Context, db *gorm.DB, out io.Writer) error {
	a, err := accolades.FindAccount(ctx, db, AccoladesAccount)
	if models.KindOf(err) == models.NotFound {
		a, err = accolades.CreateAccount(ctx, db, accolades.AccountInput{AccountNumber: AccoladesAccount, Name: "Demo call center",
			Password: AccoladesPassword, Data: "INFO_ACCOUNT"})
		if err == nil {
			fmt.Fprintf(out, "Accolades account %s, REST API password %q (demo only)\n", AccoladesAccount, AccoladesPassword)
		}
	}
	if err != nil {
		return err
	}
	for _, ag := range []accolades.AgentInput{
		{Name: "Ana Agent", DeviceID: "27", CrmID: AccoladesCrmAna, Data: "INFO_AGENT", PhoneData: "INFO_PHONE"},
		{Name: "Bob Agent", DeviceID: "28", CrmID: AccoladesCrmBob},
	} {
		if _, err := accolades.FindByCrmID(ctx, db, ag.CrmID); err == nil {
			continue
		} else if models.KindOf(err) != models.NotFound {
			return err
		}
		if _, err := accolades.CreateAgent(ctx, db, a.ID, ag); err != nil {
			return err
		}
		fmt.Fprintf(out, "Accolades agent %s, device %s, CRM id %s\n", ag.Name, ag.DeviceID, ag.CrmID)
	}
	return nil
}
