package collect

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard/models"
)

// Contact plans (issue 9, item 5; notes/vendors.md 1.6). Which plans exist and what they change is data
// (ambiguity 16): each database's plans are defined through the platform API, by code (the vendor's
// cp_code), with the record types they apply to and their steps, run in order on one row:
//   - set: sets a field of the row to a value;
//   - button: a button prompt (text and labels); the answer is a position, and a position listed in
//     cancel cancels the plan;
//   - form: a form prompt (formid and the row's fields it shows); the answer's button is one of the
//     step's form button values (a value listed in cancel cancels the plan) and its data, for the
//     step's fields, is applied to the row.
//
// A run changes nothing until its last step: its changes are applied to the row in one transaction at the
// end, so a run that fails or is cancelled (socket gone, prompt unanswered, a value the field refuses)
// leaves nothing of it written. Each run is a job row (collect_plan_jobs) with its status and reason.

// Step types.
const (
	StepSet    = "set"
	StepButton = "button"
	StepForm   = "form"
)

// PlanRecords are the record types a plan may apply to ("Contact Plans only work for Debtors, Clients,
// Cosigners, and Associates").
var PlanRecords = []string{"debtor", "client", "cosigner", "associate"}

// Limits of a plan.
const (
	MaxSteps       = 50
	maxButtons     = 20
	maxStepMessage = 2000
	maxLabel       = 255
)

// Step is one step of a plan (stored as JSON).
type Step struct {
	Type    string   `json:"type"`
	Field   string   `json:"field,omitempty"`   // set: the field
	Value   string   `json:"value,omitempty"`   // set: its new value
	Message string   `json:"message,omitempty"` // button, form: the text shown
	Buttons []string `json:"buttons,omitempty"` // button: the labels
	FormID  string   `json:"formid,omitempty"`  // form: the form's id
	Fields  []string `json:"fields,omitempty"`  // form: the row's fields shown and taken from the answer
	Values  []int32  `json:"values,omitempty"`  // form: the form button values accepted
	Cancel  []int32  `json:"cancel,omitempty"`  // button: positions, form: values, that cancel the plan
}

// Prompt tells whether the step prompts over a socket.
func (s Step) Prompt() bool { return s.Type == StepButton || s.Type == StepForm }

// Offers tells whether answer is a button the step's prompt offered.
func (s Step) Offers(answer int32) bool {
	if s.Type == StepButton {
		return answer >= 0 && int(answer) < len(s.Buttons)
	}
	return slices.Contains(s.Values, answer)
}

// Plan is a row of collect_plans with its steps decoded.
type Plan struct {
	ID          int64 `gorm:"primaryKey;column:id"`
	DatabaseID  int64
	Code        string
	Description string
	Records     string // comma-joined record types
	StepsJSON   string `gorm:"column:steps"`
	NeedsSocket bool
	CreatedAt   int64
	Steps       []Step `gorm:"-"`
}

// TableName is the table of contact plans.
func (Plan) TableName() string { return "collect_plans" }

// RecordTypes answers the record types the plan applies to.
func (p *Plan) RecordTypes() []string { return strings.Split(p.Records, ",") }

// AppliesTo tells whether the plan runs on rows of record.
func (p *Plan) AppliesTo(record string) bool { return slices.Contains(p.RecordTypes(), record) }

// PlanInput is a new plan. NeedsSocket is forced on when a step prompts.
type PlanInput struct {
	Code, Description string
	Records           []string
	Steps             []Step
	NeedsSocket       bool
}

var (
	planCode = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	formID   = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)
)

func planNotFound(what string) error {
	return models.Errorf(models.NotFound, "plan %s not found", what)
}

func (in PlanInput) check() error {
	if !planCode.MatchString(in.Code) {
		return models.Errorf(models.Invalid, "code %q: want 1 to 32 letters, digits, _ or -", in.Code)
	}
	if len(in.Description) > 255 {
		return models.Errorf(models.Invalid, "description: at most 255 bytes")
	}
	if len(in.Records) == 0 {
		return models.Errorf(models.Invalid, "records: name at least one of %v", PlanRecords)
	}
	for i, r := range in.Records {
		if !slices.Contains(PlanRecords, r) {
			return models.Errorf(models.Invalid, "records: %q is not one of %v", r, PlanRecords)
		}
		if slices.Contains(in.Records[:i], r) {
			return models.Errorf(models.Invalid, "records: %s is named twice", r)
		}
	}
	if len(in.Steps) == 0 || len(in.Steps) > MaxSteps {
		return models.Errorf(models.Invalid, "steps: want 1 to %d", MaxSteps)
	}
	for i, s := range in.Steps {
		if err := s.check(); err != nil {
			return models.Errorf(models.Invalid, "steps[%d]: %s", i, err.Error())
		}
	}
	return nil
}

func (s Step) check() error {
	if len(s.Message) > maxStepMessage {
		return fmt.Errorf("message: at most %d bytes", maxStepMessage)
	}
	switch s.Type {
	case StepSet:
		if !identifier.MatchString(s.Field) {
			return fmt.Errorf("field %q is not a field name", s.Field)
		}
		if len(s.Value) > maxValueChars {
			return fmt.Errorf("value: at most %d bytes", maxValueChars)
		}
	case StepButton:
		if len(s.Buttons) == 0 || len(s.Buttons) > maxButtons {
			return fmt.Errorf("buttons: want 1 to %d labels", maxButtons)
		}
		for _, b := range s.Buttons {
			if len(b) > maxLabel {
				return fmt.Errorf("buttons: a label is at most %d bytes", maxLabel)
			}
		}
		for _, c := range s.Cancel {
			if !s.Offers(c) {
				return fmt.Errorf("cancel: %d is not a position of buttons", c)
			}
		}
	case StepForm:
		if !formID.MatchString(s.FormID) {
			return fmt.Errorf("formid %q is not a form id (UUID)", s.FormID)
		}
		if len(s.Fields) == 0 || len(s.Fields) > MaxFields {
			return fmt.Errorf("fields: want 1 to %d of the row's fields", MaxFields)
		}
		for _, f := range s.Fields {
			if !identifier.MatchString(f) {
				return fmt.Errorf("fields: %q is not a field name", f)
			}
		}
		if len(s.Values) == 0 || len(s.Values) > maxButtons {
			return fmt.Errorf("values: want 1 to %d form button values", maxButtons)
		}
		for _, c := range s.Cancel {
			if !s.Offers(c) {
				return fmt.Errorf("cancel: %d is not one of values", c)
			}
		}
	default:
		return fmt.Errorf("type %q is not one of set, button, form", s.Type)
	}
	return nil
}

// CreatePlan stores a new plan in the scope's database: a code the database has already is a Conflict, a
// database that does not exist NotFound.
func CreatePlan(ctx context.Context, db *gorm.DB, s Scope, in PlanInput) (*Plan, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	steps, err := json.Marshal(in.Steps)
	if err != nil {
		return nil, err
	}
	p := &Plan{DatabaseID: s.DatabaseID, Code: in.Code, Description: in.Description, Records: strings.Join(in.Records, ","),
		StepsJSON: string(steps), NeedsSocket: in.NeedsSocket, CreatedAt: time.Now().Unix(), Steps: in.Steps}
	for _, st := range in.Steps {
		p.NeedsSocket = p.NeedsSocket || st.Prompt()
	}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockDatabase(tx, s.DatabaseID, "SHARE"); err != nil {
			return err
		}
		var n int64
		if err := s.Query(ctx, tx, &Plan{}).Where("code = ?", in.Code).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return models.Errorf(models.Conflict, "the database has a plan %s already", in.Code)
		}
		return tx.Create(p).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, models.Wrap(models.Conflict, err, "the database has a plan "+in.Code+" already")
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Plan) decode() error {
	if err := json.Unmarshal([]byte(p.StepsJSON), &p.Steps); err != nil {
		return fmt.Errorf("plan %d: steps: %w", p.ID, err)
	}
	return nil
}

// ListPlans answers one page of the scope's plans in id order.
func ListPlans(ctx context.Context, db *gorm.DB, s Scope, lq models.ListQuery) (models.PageOf[Plan], error) {
	page, err := models.List(ctx, s.Query(ctx, db, &Plan{}), "id", lq, func(p *Plan) int64 { return p.ID })
	if err != nil {
		return page, err
	}
	for i := range page.Items {
		if err := page.Items[i].decode(); err != nil {
			return page, err
		}
	}
	return page, nil
}

// GetPlan loads plan id of the scope's database; another database's is NotFound.
func GetPlan(ctx context.Context, db *gorm.DB, s Scope, id int64) (*Plan, error) {
	return takePlan(s.Query(ctx, db, &Plan{}).Where("id = ?", id), fmt.Sprint(id))
}

// FindPlan loads the scope's plan with code (the vendor's cp_code).
func FindPlan(ctx context.Context, db *gorm.DB, s Scope, code string) (*Plan, error) {
	return takePlan(s.Query(ctx, db, &Plan{}).Where("code = ?", code), code)
}

func takePlan(q *gorm.DB, what string) (*Plan, error) {
	var p Plan
	err := q.Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, planNotFound(what)
	}
	if err != nil {
		return nil, err
	}
	return &p, p.decode()
}

// DeletePlan deletes plan id of the scope's database; its jobs stay as the record of its runs.
func DeletePlan(ctx context.Context, db *gorm.DB, s Scope, id int64) error {
	res := s.Query(ctx, db, &Plan{}).Where("id = ?", id).Delete(&Plan{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return planNotFound(fmt.Sprint(id))
	}
	return nil
}

// Job statuses.
const (
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// Job is a row of collect_plan_jobs: one run of a plan on one row.
type Job struct {
	ID          string `gorm:"primaryKey;column:id"` // the jobid of the run's socket messages
	DatabaseID  int64
	OperatorID  int64
	PlanID      int64
	PlanCode    string
	Record      string
	RowID       int64 `gorm:"column:row_id"`
	WebsocketID string
	Status      string
	Reason      string
	CreatedAt   int64
	FinishedAt  int64
	// Deadline (unix seconds) is when a live run has ended: every prompt is bounded by a timeout. A job
	// still running after it lost its node (SweepJobs).
	Deadline int64
}

// TableName is the table of plan runs.
func (Job) TableName() string { return "collect_plan_jobs" }

// NewJobID answers a new jobid: an upper-case UUID (version 4), as the socket messages carry it.
func NewJobID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

// StartJob records a run of plan on row rowid of record, as running until deadline at the latest.
func StartJob(ctx context.Context, db *gorm.DB, s Scope, operatorID int64, p *Plan, record string, rowid int64, websocketID string,
	deadline time.Time) (*Job, error) {
	j := &Job{ID: NewJobID(), DatabaseID: s.DatabaseID, OperatorID: operatorID, PlanID: p.ID, PlanCode: p.Code,
		Record: record, RowID: rowid, WebsocketID: websocketID, Status: JobRunning, CreatedAt: time.Now().Unix(),
		Deadline: deadline.Unix()}
	if err := db.WithContext(ctx).Create(j).Error; err != nil {
		return nil, err
	}
	return j, nil
}

// CompleteJob applies a run's changes to its row and marks the job done, all in one transaction: either
// every change is written and the job is done, or nothing is (and the error says why).
func CompleteJob(ctx context.Context, db *gorm.DB, s Scope, j *Job, d *RecordDef, changes Data) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if len(changes) > 0 {
			if err := updateRow(ctx, tx, s, d, j.RowID, changes); err != nil {
				return err
			}
		}
		return finishJob(ctx, tx, s, j, JobDone, "")
	})
}

// FailJob marks a job failed with its reason. It runs on its own context: a run ends this way when its
// request was cancelled too. A job ended already (swept as orphaned) keeps its first ending.
func FailJob(ctx context.Context, db *gorm.DB, s Scope, j *Job, reason string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := finishJob(ctx, db, s, j, JobFailed, reason)
	if models.KindOf(err) == models.Conflict {
		return nil
	}
	return err
}

// finishJob ends a running job; Conflict when it is not running any more (SweepJobs took it for orphaned).
func finishJob(ctx context.Context, tx *gorm.DB, s Scope, j *Job, status, reason string) error {
	if len(reason) > 2000 {
		reason = reason[:2000]
	}
	finished := time.Now().Unix()
	res := s.Query(ctx, tx, &Job{}).Where("id = ? AND status = ?", j.ID, JobRunning).
		Updates(map[string]any{"status": status, "reason": reason, "finished_at": finished})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return models.Errorf(models.Conflict, "job %s was ended meanwhile (past its deadline, taken for orphaned)", j.ID)
	}
	j.Status, j.Reason, j.FinishedAt = status, reason, finished
	return nil
}

// Orphaned is the reason of a run its node stopped before it ended. Its changes were never written: a run
// writes them only when it completes (CompleteJob).
const Orphaned = "the node running the plan stopped before the plan ended: none of its changes were written"

// SweepJobs fails every job, of every database, still running at now though past its deadline: the node
// running it stopped (a crash, a kill) before the run ended. It answers how many it failed.
func SweepJobs(ctx context.Context, db *gorm.DB, now time.Time) (int64, error) {
	res := db.WithContext(ctx).Model(&Job{}).Where("status = ? AND deadline < ?", JobRunning, now.Unix()).
		Updates(map[string]any{"status": JobFailed, "reason": Orphaned, "finished_at": now.Unix()})
	return res.RowsAffected, res.Error
}

// GetJob loads job id of the scope's database (NotFound for another database's).
func GetJob(ctx context.Context, db *gorm.DB, s Scope, id string) (*Job, error) {
	return models.TakeOne[Job](s.Query(ctx, db, &Job{}).Where("id = ?", id),
		func() error { return models.Errorf(models.NotFound, "job %s not found", id) })
}
