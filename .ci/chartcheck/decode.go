package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
)

// scheme knows the API groups a chart may render, at their served
// versions only: a manifest of a removed version (extensions/v1beta1
// Ingress) is an unknown kind and fails.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, networkingv1.AddToScheme,
		policyv1.AddToScheme, batchv1.AddToScheme, autoscalingv2.AddToScheme,
		rbacv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// strict decodes YAML like the API server's strict field validation:
// unknown and duplicate fields are errors, names match case-sensitively.
var strict = json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme,
	json.SerializerOptions{Yaml: true, Strict: true})

// manifest is one decoded object.
type manifest struct {
	source string
	gvk    schema.GroupVersionKind
	obj    runtime.Object
	meta   metav1.Object
}

// decodeStrict decodes one YAML document into its typed object.
func decodeStrict(doc []byte) (manifest, error) {
	obj, gvk, err := strict.Decode(doc, nil, nil)
	if err != nil {
		if runtime.IsStrictDecodingError(err) {
			return manifest{}, fmt.Errorf("strict decoding: %w", err)
		}
		return manifest{}, err
	}
	meta, ok := obj.(metav1.Object)
	if !ok {
		return manifest{}, fmt.Errorf("%s has no object metadata", gvk.Kind)
	}
	return manifest{gvk: *gvk, obj: obj, meta: meta}, nil
}

// summarize counts the kinds validated, e.g. "Deployment, 2×Service".
func summarize(ms []manifest) string {
	n := map[string]int{}
	for _, m := range ms {
		n[m.gvk.Kind]++
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(n)) {
		if n[k] > 1 {
			k = fmt.Sprintf("%d×%s", n[k], k)
		}
		parts = append(parts, k)
	}
	return strings.Join(parts, ", ")
}
