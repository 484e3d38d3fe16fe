// Package demo seeds a store with the Collect! seed's own examples, so a new user can log in and walk
// through the README at once: the cv_masterdb database, its operators OWN (password "own", as the seed
// shows it) and SAL, the debtor record with its contact sub-records, a few rows, the seed's form and a
// contact plan REV that prompts over the WebSocket. It runs only when
// asked (`switchboard demo`), and again it changes nothing: what exists already is left as it is.
package demo

import (
	"context"
	"fmt"
	"io"

	"gorm.io/gorm"

	"switchboard/models"
	"switchboard/models/collect"
)

// The seed's names.
const (
	Database = collect.DefaultDatabase // cv_masterdb
	Operator = "OWN"
	Password = "own"
)

// Seed adds what is missing of the demo and reports each step to out.
func Seed(ctx context.Context, db *gorm.DB, out io.Writer) error {
	if err := SeedUContact(ctx, db, out); err != nil { // demo/ucontact.go
		return err
	}
	if err := SeedAccolades(ctx, db, out); err != nil { // demo/accolades.go
		return err
	}
	if err := SeedCIM(ctx, db, out); err != nil { // demo/cim.go
		return err
	}
	d, err := collect.FindDatabase(ctx, db, Database)
	if models.KindOf(err) == models.NotFound {
		d, err = collect.CreateDatabase(ctx, db, Database)
		if err == nil {
			fmt.Fprintf(out, "Collect! database %s\n", Database)
		}
	}
	if err != nil {
		return err
	}
	s := d.Scope()
	for _, op := range []struct {
		id, name, pw string
		level, fn    int32
	}{{Operator, "Owner Of The Company", Password, 10, 1}, {"SAL", "Sales", "sal", 5, 1}} {
		if _, err := collect.FindOperator(ctx, db, s, op.id); err == nil {
			continue
		} else if models.KindOf(err) != models.NotFound {
			return err
		}
		if _, err := collect.CreateOperator(ctx, db, s, collect.OperatorFields{OpID: &op.id, OpName: &op.name, Password: &op.pw,
			OpLevel: &op.level, OpFunction: &op.fn}); err != nil {
			return err
		}
		fmt.Fprintf(out, "Collect! operator %s of %s, password %q (demo only)\n", op.id, Database, op.pw)
	}
	debtor, made, err := recordDef(ctx, db, s, collect.RecordDefInput{Name: "debtor", RowIDField: "de_rowid", Fields: []collect.FieldInput{
		{Name: "de_name", Type: collect.TypeText}, {Name: "de_phone", Type: collect.TypeText},
		{Name: "de_status", Type: collect.TypeText, Default: ptr("NEW")}, {Name: "de_owing", Type: collect.TypeNumber},
	}})
	if err != nil {
		return err
	}
	contact, _, err := recordDef(ctx, db, s, collect.RecordDefInput{Name: "contact", RowIDField: "co_rowid",
		Parent: "debtor", ParentField: "co_debtor", Fields: []collect.FieldInput{
			{Name: "co_debtor", Type: collect.TypeNumber}, {Name: "co_type", Type: collect.TypeNumber},
			{Name: "co_description", Type: collect.TypeText}, {Name: "co_priority", Type: collect.TypeNumber},
			{Name: "co_who", Type: collect.TypeText}, {Name: "co_date", Type: collect.TypeDate},
			{Name: "co_originator", Type: collect.TypeText}, {Name: "co_creation_date", Type: collect.TypeDate},
			{Name: "co_creation_time", Type: collect.TypeTime}, {Name: "co_who_from", Type: collect.TypeText},
			{Name: "co_lock", Type: collect.TypeNumber},
		}})
	if err != nil {
		return err
	}
	if err := formAndPlan(ctx, db, s, out); err != nil {
		return err
	}
	if !made {
		return nil // the rows came with the definitions, the first time
	}
	for _, de := range []map[string]string{
		{"de_name": "Jane Debtor", "de_phone": "+923001234567", "de_owing": "1250.50"},
		{"de_name": "John Debtor", "de_phone": "+923001234568", "de_owing": "300", "de_status": "PAY"},
	} {
		id, _, err := collect.CreateRow(ctx, db, s, debtor, collect.PreLogicOnly, de)
		if err != nil {
			return err
		}
		// The seed's contact: a review of the file, due for OWN.
		if _, _, err := collect.CreateRow(ctx, db, s, contact, collect.PreLogicOnly, map[string]string{
			"co_debtor": fmt.Sprint(id), "co_type": "5", "co_description": "Review file...", "co_priority": "30",
			"co_who": "OWN", "co_date": "2023-01-12", "co_originator": "OWN", "co_creation_date": "2023-01-12",
			"co_creation_time": "13:28:21", "co_who_from": "OWN", "co_lock": "1024"}); err != nil {
			return err
		}
		fmt.Fprintf(out, "debtor %d (%s) with one contact\n", id, de["de_name"])
	}
	return nil
}

// The seed's form ("Schedule Next Contact", its id and its OK button's value 4631) and plan REV.
const (
	FormID = "35d01ff2-775d-ccb4-8f53-25d36f517384"
	Plan   = "REV"
)

// formAndPlan adds the seed's form and a plan REV on debtors that uses it: a Yes/No prompt, the form to
// confirm the debtor's status and amount owed, then the status set to REV.
func formAndPlan(ctx context.Context, db *gorm.DB, s collect.Scope, out io.Writer) error {
	if _, err := collect.GetForm(ctx, db, s, FormID); models.KindOf(err) == models.NotFound {
		f := &collect.Form{UUID: FormID, Name: "ScheduleNextContact", Alias: "Schedule Next Contact", Width: 86, Height: 17,
			Fields:  []collect.FormItem{{Name: "de_status", Label: "Status", Editable: true}, {Name: "de_owing", Label: "Owing", Editable: true}},
			Buttons: []collect.FormItem{{Label: "OK", Value: 4631}, {Label: "Cancel", Value: 4632}}}
		if err := collect.CreateForm(ctx, db, s, f); err != nil {
			return err
		}
		fmt.Fprintf(out, "form %s (Schedule Next Contact)\n", FormID)
	} else if err != nil {
		return err
	}
	if _, err := collect.FindPlan(ctx, db, s, Plan); models.KindOf(err) != models.NotFound {
		return err
	}
	if _, err := collect.CreatePlan(ctx, db, s, collect.PlanInput{Code: Plan, Description: "Review the file", Records: []string{"debtor"},
		NeedsSocket: true, Steps: []collect.Step{
			{Type: collect.StepButton, Message: "Review this debtor's file now?", Buttons: []string{"Yes", "No"}, Cancel: []int32{1}},
			{Type: collect.StepForm, Message: "Confirm the details", FormID: FormID, Fields: []string{"de_status", "de_owing"},
				Values: []int32{4631, 4632}, Cancel: []int32{4632}},
			{Type: collect.StepSet, Field: "de_status", Value: "REV"},
		}}); err != nil {
		return err
	}
	fmt.Fprintf(out, "contact plan %s on debtors (a button prompt, the form, then de_status REV)\n", Plan)
	return nil
}

// recordDef answers the database's definition of in.Name, made from in when missing (made: it was).
func recordDef(ctx context.Context, db *gorm.DB, s collect.Scope, in collect.RecordDefInput) (*collect.RecordDef, bool, error) {
	d, err := collect.FindRecordDef(ctx, db, s, in.Name)
	if models.KindOf(err) != models.NotFound {
		return d, false, err
	}
	if d, err = collect.CreateRecordDef(ctx, db, s, in); err != nil {
		return nil, false, err
	}
	return d, true, nil
}

func ptr[T any](v T) *T { return &v }
