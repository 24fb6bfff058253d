package summarize_test

import (
	"reflect"
	"testing"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/summarize"
)

func TestRemember(t *testing.T) {
	stories := []briefing.Story{
		story("old", 60, "a.com", "b.com"),   // articles olda, oldb
		story("moved", 60, "a.com", "b.com"), // moveda, movedb
		story("new", 60, "a.com"),            // newa
	}
	tests := map[string]struct {
		told        map[string]bool
		want        []string
		wantUpdates []string
	}{
		"nothing told": {nil, []string{"old", "moved", "new"}, nil},
		"all told of a story: dropped; some told: an update": {
			told:        map[string]bool{"olda": true, "oldb": true, "moveda": true},
			want:        []string{"moved", "new"},
			wantUpdates: []string{"moved"},
		},
		"everything told": {
			told: map[string]bool{"olda": true, "oldb": true, "moveda": true, "movedb": true, "newa": true},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := summarize.Remember(stories, tc.told)
			var updates []string
			for _, s := range got {
				if s.Update {
					updates = append(updates, s.ID)
				}
			}
			if ids := rankedIDs(got); !reflect.DeepEqual(ids, tc.want) || !reflect.DeepEqual(updates, tc.wantUpdates) {
				t.Errorf("kept %q with updates %q, want %q with updates %q", ids, updates, tc.want, tc.wantUpdates)
			}
			for _, s := range stories {
				if s.Update {
					t.Fatal("Remember changed its input")
				}
			}
		})
	}
}
