package main

import (
	"os"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The repository's docker-compose.yml (no docker engine runs the tests):
// PostgreSQL with a health check, at least two replicas started once it
// is healthy, and a DATABASE_URL that a replica's config accepts as
// store.dsn.
func TestComposeFile(t *testing.T) {
	data, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       string            `yaml:"build"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Healthcheck *struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
			Deploy struct {
				Replicas int `yaml:"replicas"`
			} `yaml:"deploy"`
			DependsOn map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	db, bot := compose.Services["db"], compose.Services["briefing"]
	if db.Image == "" || db.Healthcheck == nil || len(db.Healthcheck.Test) == 0 {
		t.Errorf("db service %+v: want a postgres image with a health check", db)
	}
	if bot.Build == "" || bot.Deploy.Replicas < 2 || len(bot.Command) == 0 || bot.Command[0] != "run" {
		t.Errorf("briefing service %+v: want `run` built from the repository, two replicas or more", bot)
	}
	if bot.DependsOn["db"].Condition != "service_healthy" {
		t.Errorf("briefing depends on db %+v, want service_healthy", bot.DependsOn)
	}
	t.Setenv("DATABASE_URL", bot.Environment["DATABASE_URL"])
	if _, err := ParseConfig("replica config", []byte(validConfig+
		"store: {driver: postgres, dsn: \"${DATABASE_URL}\"}\nserver: {listen: \"0.0.0.0:9090\"}\n")); err != nil {
		t.Errorf("a replica's config with the compose file's DATABASE_URL: %v", err)
	}
}
