package briefingtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// WriteFeed writes an RSS feed called name into dir and returns its path.
// Each item is {title, text, age}: its link is https://<name>.example/<i>
// and it was published age (a time.Duration string) before now.
func WriteFeed(tb testing.TB, dir, name string, now time.Time, items ...[3]string) string {
	tb.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title>`, name)
	for i, it := range items {
		age, err := time.ParseDuration(it[2])
		if err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(&b, `<item><title>%s</title><link>https://%s.example/%d</link><description>%s</description><pubDate>%s</pubDate></item>`,
			it[0], name, i, it[1], now.Add(-age).Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	path := filepath.Join(dir, name+".xml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
