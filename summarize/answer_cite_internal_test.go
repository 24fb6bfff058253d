package summarize

import "testing"

func TestScrubURLs(t *testing.T) {
	allowed := map[string]bool{"https://news.example.com/a": true}
	tests := map[string]struct{ text, want string }{
		"allowed bare URL":         {"See https://news.example.com/a.", "See https://news.example.com/a."},
		"made-up bare URL":         {"See https://fake.example.org/x for more.", "See for more."},
		"allowed markdown link":    {"[the report](https://news.example.com/a)", "[the report](https://news.example.com/a)"},
		"made-up markdown link":    {"Read [the filing](https://fake.example.org/f).", "Read the filing."},
		"allowed slack link":       {"Read <https://news.example.com/a|the report>.", "Read <https://news.example.com/a|the report>."},
		"made-up slack link":       {"Read <https://fake.example.org/f|the filing>.", "Read the filing."},
		"made-up URL as the label": {"[https://fake.example.org/x](https://fake.example.org/x) now", "now"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := scrubURLs(tc.text, allowed); got != tc.want {
				t.Errorf("scrubURLs(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}
