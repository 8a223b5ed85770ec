package main

import (
	"fmt"
	"path"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// standardLabels are the labels every object of a chart carries (Helm's
// and chart-testing's conventions), so operators can select a release.
var standardLabels = []string{
	"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
	"app.kubernetes.io/managed-by", "helm.sh/chart",
}

// check runs the per-object and cross-object checks over one render.
func check(ms []manifest) []string {
	var c checker
	seen := map[string]bool{}
	for _, m := range ms {
		key := m.gvk.Kind + "/" + m.meta.GetName()
		if seen[key] {
			c.addf(m, "rendered twice")
		}
		seen[key] = true
		c.metadata(m)
		switch o := m.obj.(type) {
		case *appsv1.Deployment:
			c.deployment(m, o)
		case *corev1.PersistentVolumeClaim:
			if q := o.Spec.Resources.Requests[corev1.ResourceStorage]; q.Sign() <= 0 {
				c.addf(m, "storage request must be positive")
			}
		}
	}
	c.references(ms)
	return c.problems
}

type checker struct{ problems []string }

func (c *checker) addf(m manifest, format string, args ...any) {
	c.problems = append(c.problems,
		fmt.Sprintf("%s: %s %s: %s", m.source, m.gvk.Kind, m.meta.GetName(), fmt.Sprintf(format, args...)))
}

// errs reports each validation message of a field.
func (c *checker) errs(m manifest, field string, msgs []string) {
	for _, e := range msgs {
		c.addf(m, "%s: %s", field, e)
	}
}

func (c *checker) metadata(m manifest) {
	name := m.meta.GetName()
	if m.gvk.Kind == "Service" {
		c.errs(m, "metadata.name", validation.IsDNS1035Label(name))
	} else {
		c.errs(m, "metadata.name", validation.IsDNS1123Subdomain(name))
	}
	c.labels(m, "metadata.labels", m.meta.GetLabels())
	for k := range m.meta.GetAnnotations() {
		c.errs(m, "metadata.annotations "+k, validation.IsQualifiedName(k))
	}
	for _, l := range standardLabels {
		if m.meta.GetLabels()[l] == "" {
			c.addf(m, "missing label %s", l)
		}
	}
}

func (c *checker) labels(m manifest, field string, ls map[string]string) {
	for k, v := range ls {
		c.errs(m, field+" "+k, validation.IsQualifiedName(k))
		c.errs(m, field+" "+k, validation.IsValidLabelValue(v))
	}
}

// deployment checks a Deployment on its own: selector, containers, volumes
// and the security and probe settings the charts promise.
func (c *checker) deployment(m manifest, d *appsv1.Deployment) {
	pod := d.Spec.Template
	c.labels(m, "spec.template.metadata.labels", pod.Labels)
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	switch {
	case d.Spec.Selector == nil:
		c.addf(m, "spec.selector is required")
	case err != nil:
		c.addf(m, "spec.selector: %v", err)
	case sel.Empty() || !sel.Matches(labels.Set(pod.Labels)):
		c.addf(m, "spec.selector %s does not select the pod template's labels", sel)
	}
	if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
		c.addf(m, "automountServiceAccountToken must be false (ogpnet never calls the Kubernetes API)")
	}
	psc := pod.Spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		c.addf(m, "pod securityContext.runAsNonRoot must be true")
	}
	if psc == nil || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		c.addf(m, "pod securityContext.runAsUser must be a non-root uid")
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		c.errs(m, "volume "+v.Name, validation.IsDNS1123Label(v.Name))
		volumes[v.Name] = v
	}
	if len(pod.Spec.Containers) == 0 {
		c.addf(m, "no containers")
	}
	mongo := false
	for _, ct := range pod.Spec.Containers {
		c.container(m, ct, psc, volumes)
		mongo = mongo || slices.ContainsFunc(ct.Env, func(e corev1.EnvVar) bool { return e.Name == "OGPNET_MONGO_URI" })
	}
	// The embedded store is a SQLite file on a ReadWriteOnce claim: one
	// process at a time, also during a rollout.
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	if replicas > 1 && !mongo {
		c.addf(m, "%d replicas without OGPNET_MONGO_URI: the embedded store allows one", replicas)
	}
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		if replicas > 1 {
			c.addf(m, "%d replicas share the ReadWriteOnce claim %s", replicas, v.PersistentVolumeClaim.ClaimName)
		}
		if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			c.addf(m, "a Deployment on claim %s must use the Recreate strategy (two pods must never open one embedded store)", v.PersistentVolumeClaim.ClaimName)
		}
	}
}

func (c *checker) container(m manifest, ct corev1.Container, psc *corev1.PodSecurityContext, volumes map[string]corev1.Volume) {
	at := "container " + ct.Name
	c.errs(m, at, validation.IsDNS1123Label(ct.Name))
	if ct.Image == "" {
		c.addf(m, "%s: image is required", at)
	}
	ports := map[string]bool{}
	for _, p := range ct.Ports {
		c.errs(m, at+" port "+p.Name, validation.IsValidPortName(p.Name))
		c.errs(m, at+" port "+p.Name, validation.IsValidPortNum(int(p.ContainerPort)))
		ports[p.Name] = true
	}
	env := map[string]string{}
	for _, e := range ct.Env {
		c.errs(m, at+" env "+e.Name, validation.IsEnvVarName(e.Name))
		if _, dup := env[e.Name]; dup {
			c.addf(m, "%s: env %s set twice", at, e.Name)
		}
		env[e.Name] = e.Value
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			ref := e.ValueFrom.SecretKeyRef
			c.errs(m, at+" env "+e.Name+" secret", validation.IsDNS1123Subdomain(ref.Name))
			c.errs(m, at+" env "+e.Name+" key", validation.IsConfigMapKey(ref.Key))
		}
	}
	mounts := map[string]bool{}
	for _, vm := range ct.VolumeMounts {
		if _, ok := volumes[vm.Name]; !ok {
			c.addf(m, "%s: volumeMount %s names no volume", at, vm.Name)
		}
		if !path.IsAbs(vm.MountPath) {
			c.addf(m, "%s: mountPath %q is not absolute", at, vm.MountPath)
		}
		if !vm.ReadOnly {
			mounts[path.Clean(vm.MountPath)] = true
		}
	}
	// A read-only root filesystem needs writable mounts for the data
	// folder (embedded store, keys) and for temporary files (SQLite).
	for _, dir := range []string{env["OGPNET_DATA"], "/tmp"} {
		if dir == "" {
			c.addf(m, "%s: OGPNET_DATA is not set", at)
		} else if !mounts[path.Clean(dir)] {
			c.addf(m, "%s: %s is not a writable volume", at, dir)
		}
	}
	c.probe(m, at+" livenessProbe", ct.LivenessProbe, "/healthz", ports)
	c.probe(m, at+" readinessProbe", ct.ReadinessProbe, "/readyz", ports)
	c.probe(m, at+" startupProbe", ct.StartupProbe, "/healthz", ports)

	sc := ct.SecurityContext
	if sc == nil {
		c.addf(m, "%s: securityContext is required", at)
		return
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		c.addf(m, "%s: allowPrivilegeEscalation must be false", at)
	}
	if sc.Privileged != nil && *sc.Privileged {
		c.addf(m, "%s: must not be privileged", at)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		c.addf(m, "%s: readOnlyRootFilesystem must be true", at)
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
		c.addf(m, "%s: capabilities must drop ALL and add none", at)
	}
	if sc.RunAsUser != nil && *sc.RunAsUser == 0 || sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot {
		c.addf(m, "%s: must not run as root", at)
	}
	seccomp := sc.SeccompProfile
	if seccomp == nil && psc != nil {
		seccomp = psc.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		c.addf(m, "%s: seccompProfile must be RuntimeDefault", at)
	}
}

// probe checks that a probe asks path on a named port of the container.
func (c *checker) probe(m manifest, at string, p *corev1.Probe, want string, ports map[string]bool) {
	if p == nil || p.HTTPGet == nil {
		c.addf(m, "%s: an httpGet probe on %s is required", at, want)
		return
	}
	if p.HTTPGet.Path != want {
		c.addf(m, "%s: path %q, want %q", at, p.HTTPGet.Path, want)
	}
	if name := p.HTTPGet.Port.StrVal; name == "" || !ports[name] {
		c.addf(m, "%s: port %q is not a named port of the container", at, p.HTTPGet.Port.String())
	}
}

// references checks what one object says about another in the same
// render: a Service selects a Deployment's pods and targets one of their
// ports, an Ingress routes to a rendered Service port, every rendered
// claim is mounted.
func (c *checker) references(ms []manifest) {
	var deployments []*appsv1.Deployment
	services := map[string]*corev1.Service{}
	for _, m := range ms {
		switch o := m.obj.(type) {
		case *appsv1.Deployment:
			deployments = append(deployments, o)
		case *corev1.Service:
			services[o.Name] = o
		}
	}
	for _, m := range ms {
		switch o := m.obj.(type) {
		case *corev1.Service:
			c.service(m, o, deployments)
		case *networkingv1.Ingress:
			c.ingress(m, o, services)
		case *corev1.PersistentVolumeClaim:
			mounted := slices.ContainsFunc(deployments, func(d *appsv1.Deployment) bool {
				return slices.ContainsFunc(d.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool {
					return v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == o.Name
				})
			})
			if !mounted {
				c.addf(m, "no Deployment mounts this claim")
			}
		}
	}
}

func (c *checker) service(m manifest, s *corev1.Service, deployments []*appsv1.Deployment) {
	if len(s.Spec.Selector) == 0 {
		c.addf(m, "spec.selector is empty")
		return
	}
	sel := labels.SelectorFromSet(s.Spec.Selector)
	var pods []corev1.PodTemplateSpec
	for _, d := range deployments {
		if sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			pods = append(pods, d.Spec.Template)
		}
	}
	if len(pods) == 0 {
		c.addf(m, "selector %s matches no rendered pod template", sel)
		return
	}
	for _, p := range s.Spec.Ports {
		c.errs(m, "port "+p.Name, validation.IsValidPortName(p.Name))
		target := p.TargetPort.StrVal
		if target == "" {
			continue // a number needs no name to exist
		}
		for _, pod := range pods {
			named := slices.ContainsFunc(pod.Spec.Containers, func(ct corev1.Container) bool {
				return slices.ContainsFunc(ct.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == target })
			})
			if !named {
				c.addf(m, "port %s targets %q, which the selected pods do not name", p.Name, target)
			}
		}
	}
}

func (c *checker) ingress(m manifest, in *networkingv1.Ingress, services map[string]*corev1.Service) {
	hosts := map[string]bool{}
	for _, r := range in.Spec.Rules {
		c.errs(m, "host", validation.IsDNS1123Subdomain(r.Host))
		hosts[r.Host] = true
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			b := p.Backend.Service
			if b == nil {
				c.addf(m, "path %s has no service backend", p.Path)
				continue
			}
			s, ok := services[b.Name]
			if !ok {
				c.addf(m, "backend service %s is not rendered", b.Name)
				continue
			}
			if b.Port.Name != "" && !slices.ContainsFunc(s.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == b.Port.Name }) {
				c.addf(m, "backend port %s is not a port of service %s", b.Port.Name, b.Name)
			}
		}
	}
	for _, t := range in.Spec.TLS {
		for _, h := range t.Hosts {
			if !hosts[h] {
				c.addf(m, "TLS host %s has no rule", h)
			}
		}
		if t.SecretName != "" {
			c.errs(m, "tls secretName", validation.IsDNS1123Subdomain(t.SecretName))
		}
	}
}
