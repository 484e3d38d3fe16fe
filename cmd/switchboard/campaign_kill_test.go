package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"switchboard/apitest"
	"switchboard/models"
)

// TestKillDuringCampaign proves that killing the node running a campaign loses and duplicates nothing
// (DESIGN §5), with real processes on one Postgres store. Node A runs a campaign of campaignSize contacts
// at 50 a second through a fake SMSC, which holds one request a fifth of the way through; A is killed
// while inside that gateway call. Node B then starts with short rescue timings and finishes the campaign:
// every contact's number is requested exactly once, except that the attempts A was making at the kill
// (the held one among them) are recorded failed, interrupted, each requested at most once (A may have
// been killed before or after its request left).
func TestKillDuringCampaign(t *testing.T) {
	db, url := campaignStore(t)
	smsc := newFakeSMSC(t, campaignSize/5)
	a := startServing(t, url)
	api := login(t, a)
	c := newSMSCampaign(t, api, smsc, 3000) // 50 a second: the campaign takes some 6 s
	c.start(t, api)

	held := smsc.waitHeld(t, a)
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = a.wait() // killed: "signal: killed"

	// B takes A's running jobs (ticks, deliveries) for lost after 6 s; see TestKillDuringDelivery for why
	// the rescue takes some 20 s in all.
	b := startServing(t, url, "QUEUE_JOB_TIMEOUT=5", "QUEUE_RESCUE_AFTER=6")
	api = login(t, b)
	c.waitCompleted(t, api, b, db, 3*time.Minute)
	interrupted := c.check(t, api, true)
	if !interrupted[held] {
		t.Errorf("the attempt for %s, in the gateway's call at the kill, is not recorded interrupted", held)
	}
	t.Logf("%d of %d attempts interrupted by the kill", len(interrupted), campaignSize)
}

// TestTwoNodesOneCampaign: two nodes serving one store share a campaign's attempts, and every contact's
// number is requested exactly once.
func TestTwoNodesOneCampaign(t *testing.T) {
	db, url := campaignStore(t)
	smsc := newFakeSMSC(t, 0)
	a := startServing(t, url)
	b := startServing(t, url)
	api := login(t, a)
	// 100 a second: the releases are spread over some 3 s, many small batches each with a delivery job,
	// which either node may take.
	c := newSMSCampaign(t, api, smsc, 6000)
	c.start(t, api)
	c.waitCompleted(t, api, a, db, 2*time.Minute)
	c.check(t, api, false)
	for _, n := range []*node{a, b} {
		select {
		case <-n.exited:
			t.Fatalf("node %s exited during the campaign: %v\n%s", n.addr, n.exitErr, n.output())
		default:
		}
	}

	// Who made the attempts: the River client that last ran each spool's claiming job. Only logged: which
	// node takes which job is River's business.
	var byNode []struct {
		Node     string
		Attempts int
	}
	if err := db.Raw(`SELECT j.attempted_by[array_length(j.attempted_by, 1)] AS node, COUNT(*) AS attempts
		FROM spools s JOIN river_job j ON j.id = s.job_id GROUP BY 1 ORDER BY 1`).Scan(&byNode).Error; err != nil {
		t.Fatal(err)
	}
	t.Logf("attempts by node: %+v", byNode)
}

// campaignSize is the number of contacts of the campaigns of these tests.
const campaignSize = 300

// campaignStore answers a connection to a fresh Postgres store and its URL, or skips the test.
func campaignStore(t *testing.T) (*gorm.DB, string) {
	t.Helper()
	if !slices.Contains(apitest.Kinds(t), "postgres") {
		t.Skip("Postgres is unreachable")
	}
	url := apitest.EmptyStoreURL(t, "postgres")
	db, err := models.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { models.Close(db) }) // before the store's drop, registered earlier
	return db, url
}

// smsCampaign is a campaign sending an SMS through the fake SMSC to campaignSize contacts.
type smsCampaign struct {
	id     int64
	smsc   *fakeSMSC
	phones map[int64]string // by contact id
}

// newSMSCampaign creates, through api, the SMS program, a group of campaignSize contacts with distinct
// phones (one CSV import) and a campaign of them at cpm.
func newSMSCampaign(t *testing.T, api *ictcoreClient, smsc *fakeSMSC, cpm int) *smsCampaign {
	t.Helper()
	program := api.smsProgram(t, smsc)
	group := api.create(t, "/groups", map[string]any{"name": "customers"}, "group_id")
	var csv strings.Builder
	for i := range campaignSize {
		fmt.Fprintf(&csv, "\"92300%07d\"\n", i)
	}
	var report struct{ Imported, Rejected int }
	api.do(t, "POST", fmt.Sprintf("/groups/%d/csv", group), "text/csv", strings.NewReader(csv.String()), &report)
	if report.Imported != campaignSize || report.Rejected != 0 {
		t.Fatalf("CSV import: %+v, want %d imported", report, campaignSize)
	}
	var contacts []struct {
		ContactID int64 `json:"contact_id"`
		Phone     string
	}
	api.call(t, "GET", "/contacts?limit=1000", nil, &contacts)
	c := &smsCampaign{smsc: smsc, phones: map[int64]string{}}
	for _, ct := range contacts {
		c.phones[ct.ContactID] = ct.Phone
	}
	if len(c.phones) != campaignSize {
		t.Fatalf("%d contacts listed, want %d", len(c.phones), campaignSize)
	}
	c.id = api.create(t, "/campaigns", map[string]any{"program_id": program, "group_id": group, "cpm": cpm}, "campaign_id")
	return c
}

func (c *smsCampaign) start(t *testing.T, api *ictcoreClient) {
	t.Helper()
	api.call(t, "PUT", fmt.Sprintf("/campaigns/%d/start", c.id), nil, nil)
}

type campaign struct {
	Status           string
	ContactTotal     int64 `json:"contact_total"`
	ContactDone      int64 `json:"contact_done"`
	ContactPending   int64 `json:"contact_pending"`
	ContactCompleted int64 `json:"contact_completed"`
	ContactFailed    int64 `json:"contact_failed"`
}

func (c *smsCampaign) get(t *testing.T, api *ictcoreClient) campaign {
	t.Helper()
	var out campaign
	api.call(t, "GET", fmt.Sprintf("/campaigns/%d", c.id), nil, &out)
	return out
}

// waitCompleted polls, through node n, until the campaign is completed and the store has no job left to
// run: from then on nothing can be sent, so the SMSC's counts are final.
func (c *smsCampaign) waitCompleted(t *testing.T, api *ictcoreClient, n *node, db *gorm.DB, deadline time.Duration) {
	t.Helper()
	poll(t, n, deadline, func() (bool, string) {
		got, unfinished := c.get(t, api), unfinishedJobs(t, db)
		return got.Status == "completed" && unfinished == 0,
			fmt.Sprintf("campaign %+v, %d numbers requested, %d unfinished jobs", got, len(c.smsc.requests()), unfinished)
	})
}

// check asserts the outcome of a completed campaign and answers the numbers whose transmissions failed
// interrupted (allowed only when interruptions is true): every contact has one transmission, completed
// and its number requested exactly once, or failed interrupted and its number requested at most once;
// no other number was requested; the campaign's progress counts agree.
func (c *smsCampaign) check(t *testing.T, api *ictcoreClient, interruptions bool) map[string]bool {
	t.Helper()
	requests := c.smsc.requests()
	var txs []transmission
	api.call(t, "GET", fmt.Sprintf("/transmissions?campaign_id=%d&limit=1000", c.id), nil, &txs)
	if len(txs) != campaignSize {
		t.Errorf("%d transmissions, want %d", len(txs), campaignSize)
	}
	seen := map[int64]bool{}
	interrupted := map[string]bool{}
	for _, tx := range txs {
		phone, ok := c.phones[tx.ContactID]
		if !ok || seen[tx.ContactID] {
			t.Errorf("transmission %+v: not one per contact of the group", tx)
			continue
		}
		seen[tx.ContactID] = true
		switch {
		case tx.Status == "completed" && tx.TryDone == 1:
			if requests[phone] != 1 {
				t.Errorf("transmission %+v completed: %d requests for %s, want 1", tx, requests[phone], phone)
			}
		case interruptions && tx.Status == "failed" && tx.TryDone == 1 && strings.HasPrefix(tx.Response, "interrupted"):
			interrupted[phone] = true
			if requests[phone] > 1 {
				t.Errorf("transmission %+v interrupted: %d requests for %s, want at most 1", tx, requests[phone], phone)
			}
		default:
			t.Errorf("transmission %+v: want completed after 1 try (or failed, interrupted, after a kill)", tx)
		}
	}
	group := map[string]bool{}
	for _, phone := range c.phones {
		group[phone] = true
	}
	for phone, n := range requests {
		if !group[phone] {
			t.Errorf("%d requests for %s, no contact of the campaign", n, phone)
		}
	}
	// The counts are kept as attempts end: a kill must neither lose nor double them.
	failed := int64(len(interrupted))
	want := campaign{Status: "completed", ContactTotal: campaignSize, ContactDone: campaignSize,
		ContactCompleted: campaignSize - failed, ContactFailed: failed}
	if got := c.get(t, api); got != want {
		t.Errorf("campaign %+v, want %+v", got, want)
	}
	return interrupted
}
