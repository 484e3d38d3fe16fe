package platform_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"testing"

	"gorm.io/gorm"

	"switchboard/apitest"
	"switchboard/models"
	"switchboard/models/platform"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

func TestE164(t *testing.T) {
	for _, tc := range []struct {
		phone, region, want string
	}{
		{"+923001234567", "", "+923001234567"},
		{"+92 (300) 123-4567", "", "+923001234567"},
		{"03001234567", "PK", "+923001234567"},
		{"0300 1234567", "PK", "+923001234567"},
		{"+442079460018", "PK", "+442079460018"}, // E.164 is read as such in any region
		{"020 7946 0018", "GB", "+442079460018"},
		{"03001234567", "", ""},     // national without a region
		{"12ab", "PK", ""},          // not a number
		{"+92300", "PK", ""},        // too short for its plan
		{"+999123456", "PK", ""},    // no such country
		{"", "PK", ""},              // nothing
		{"0300123456789", "PK", ""}, // too long
	} {
		got, err := platform.E164(tc.phone, tc.region)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("E164(%q, %q) = %q, %v; want %q", tc.phone, tc.region, got, err, tc.want)
		}
		if err != nil && models.KindOf(err) != models.Invalid {
			t.Errorf("E164(%q): kind %v, want invalid", tc.phone, models.KindOf(err))
		}
	}
}

// setup makes lists on db: "national" (global), "campaign 7" and "campaign 8" (attached to those
// campaigns), "unused" (not global, attached to none), each holding the numbers given. Attachments are
// rows of their own: DoNotCall does not ask whether a campaign exists.
func setup(t *testing.T, db *gorm.DB, lists map[string][]string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	ids := map[string]int64{}
	for _, name := range []string{"national", "campaign 7", "campaign 8", "unused"} {
		global := name == "national"
		l, err := platform.CreateList(ctx, db, platform.ListFields{Name: &name, Global: &global})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = l.ID
		if len(lists[name]) > 0 {
			if _, err := platform.AddNumbers(ctx, db, "PK", l.ID, lists[name]); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, campaign := range map[string]int64{"campaign 7": 7, "campaign 8": 8} {
		if err := db.Exec("INSERT INTO dnc_list_campaigns (list_id, campaign_id) VALUES (?, ?)", ids[name], campaign).Error; err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func TestDoNotCall(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		db := apitest.NewDB(t, kind)
		ctx := context.Background()
		setup(t, db, map[string][]string{
			"national":   {"+923001111111", "+923002222222"},
			"campaign 7": {"+923002222222", "+923003333333"},
			"campaign 8": {"+923004444444"},
			"unused":     {"+923005555555"},
		})
		phones := []string{
			"03001111111",     // national list, national form
			"+92 300 1111111", // the same number in another form: matched as given
			"+923002222222",   // on the national list and on campaign 7's: the lower id names it
			"03003333333",     // campaign 7 only
			"+923004444444",   // campaign 8 only
			"03005555555",     // on a list that applies to nothing
			"03006666666",     // on no list
			"not a phone",     // unreadable: not matched, no error
			"",                // empty
		}
		cases := []struct {
			campaign int64
			want     map[string]string
		}{
			{0, map[string]string{"03001111111": "national", "+92 300 1111111": "national", "+923002222222": "national"}},
			{7, map[string]string{"03001111111": "national", "+92 300 1111111": "national", "+923002222222": "national", "03003333333": "campaign 7"}},
			{8, map[string]string{"03001111111": "national", "+92 300 1111111": "national", "+923002222222": "national", "+923004444444": "campaign 8"}},
			{9, map[string]string{"03001111111": "national", "+92 300 1111111": "national", "+923002222222": "national"}},
		}
		for _, tc := range cases {
			got, err := platform.DoNotCall(ctx, db, "PK", tc.campaign, phones)
			if err != nil {
				t.Fatalf("campaign %d: %v", tc.campaign, err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("campaign %d: %v, want %v", tc.campaign, got, tc.want)
			}
		}
		// Without the region national numbers are unreadable, so only the E.164 phones match.
		got, err := platform.DoNotCall(ctx, db, "", 7, phones)
		if want := map[string]string{"+92 300 1111111": "national", "+923002222222": "national"}; err != nil || !maps.Equal(got, want) {
			t.Errorf("no region: %v %v, want %v", got, err, want)
		}
		if got, err := platform.DoNotCall(ctx, db, "PK", 7, nil); err != nil || len(got) != 0 {
			t.Errorf("no phones: %v %v", got, err)
		}
	})
}

// TestDoNotCallManyPhones: a dialer's batch is answered in one pass, across the query's chunk size.
func TestDoNotCallManyPhones(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		db := apitest.NewDB(t, kind)
		var blocked []string
		for i := range 1000 {
			blocked = append(blocked, fmt.Sprintf("+92300%07d", i*7))
		}
		setup(t, db, map[string][]string{"national": blocked})
		phones := make([]string, 6000) // more than one chunk
		for i := range phones {
			phones[i] = fmt.Sprintf("0300%07d", i)
		}
		got, err := platform.DoNotCall(context.Background(), db, "PK", 0, phones)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 858 { // multiples of 7 below 6000
			t.Fatalf("%d phones matched, want 858", len(got))
		}
		for p, name := range got {
			var n int
			fmt.Sscanf(p, "0300%07d", &n)
			if n%7 != 0 || name != "national" {
				t.Fatalf("%s matched %s", p, name)
			}
		}
	})
}
