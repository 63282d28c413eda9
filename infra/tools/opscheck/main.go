// Command opscheck validates what NexusLog ships for operators, offline:
//
//	opscheck compose FILE[,FILE…] [ENV_FILE]   the Compose file(s, merged) against the Compose Specification
//	                                   (compose-go, the reference loader: schema, then model);
//	                                   prints the services with their environment as JSON
//	opscheck crds FILE...              ServiceMonitor, PrometheusRule and HTTPRoute objects in
//	                                   multi-document YAML, decoded strictly into the operators'
//	                                   own Go types (unknown fields and wrong types fail)
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) < 3 {
		fail("usage: opscheck compose FILE [ENV_FILE] | opscheck crds FILE...")
	}
	switch os.Args[1] {
	case "compose":
		compose(os.Args[2], os.Args[3:])
	case "crds":
		crds(os.Args[2:])
	default:
		fail("unknown command %q", os.Args[1])
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "opscheck: "+format+"\n", args...)
	os.Exit(1)
}

func compose(file string, envFiles []string) {
	// FILE may name several files separated by commas, merged in order as `docker compose -f A -f B` does.
	var files []string
	for _, f := range strings.Split(file, ",") {
		abs, err := filepath.Abs(f)
		if err != nil {
			fail("%v", err)
		}
		files = append(files, abs)
	}
	opts, err := cli.NewProjectOptions(files,
		cli.WithWorkingDirectory(filepath.Dir(files[0])),
		cli.WithEnvFiles(envFiles...),
		cli.WithDotEnv,
		cli.WithName("nexuslog"),
	)
	if err != nil {
		fail("%v", err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fail("%s: %v", file, err)
	}
	out := map[string]map[string]string{}
	for name, svc := range project.Services {
		env := map[string]string{}
		for k, v := range svc.Environment {
			if v != nil {
				env[k] = *v
			}
		}
		out[name] = env
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fail("%v", err)
	}
}

func crds(files []string) {
	checked := map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			fail("%v", err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			var meta struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				fail("%s document %d: %v", f, i, err)
			}
			var target any
			switch meta.APIVersion + "/" + meta.Kind {
			case "monitoring.coreos.com/v1/ServiceMonitor":
				target = &monitoringv1.ServiceMonitor{}
			case "monitoring.coreos.com/v1/PrometheusRule":
				target = &monitoringv1.PrometheusRule{}
			case "gateway.networking.k8s.io/v1/HTTPRoute":
				target = &gatewayv1.HTTPRoute{}
			default:
				if strings.Contains(meta.APIVersion, "monitoring.coreos.com") || strings.Contains(meta.APIVersion, "gateway.networking.k8s.io") {
					fail("%s document %d: no type known for %s %s", f, i, meta.APIVersion, meta.Kind)
				}
				continue
			}
			if err := yaml.UnmarshalStrict(doc, target); err != nil {
				fail("%s document %d (%s): %v", f, i, meta.Kind, err)
			}
			checked[meta.Kind]++
		}
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(checked); err != nil {
		fail("%v", err)
	}
}
