package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// extractJSON finds the JSON object in a model's reply. Models asked for
// JSON in the prompt often wrap it in a code fence or a sentence, so the
// first '{' that starts a complete object wins, and what follows it is
// ignored.
func extractJSON(text string) (string, error) {
	rest := text
	for tries := 0; tries < 8; tries++ {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			break
		}
		var obj json.RawMessage
		if err := json.NewDecoder(strings.NewReader(rest[i:])).Decode(&obj); err == nil {
			var compact bytes.Buffer
			if err := json.Compact(&compact, obj); err == nil {
				return compact.String(), nil
			}
		}
		rest = rest[i+1:]
	}
	return "", errors.New("the reply holds no JSON object")
}
