# Certificates for the local control plane, generated with openssl (sourced by up.sh).
# One CA signs: the API server's serving cert, client certs (admin, controller-manager, scheduler,
# kwok, kueue); plus the service-account signing key pair.
# shellcheck shell=bash

# Days the generated certificates are valid.
PKI_DAYS=${PKI_DAYS:-365}

# client_cert <name> <CN> <O|''>
client_cert() {
  local name=$1 cn=$2 org=$3 subj="/CN=$2"
  [[ -n "$org" ]] && subj="/O=$org/CN=$cn"
  [[ -f "$PKI_DIR/$name.crt" ]] && return 0
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI_DIR/$name.key" -subj "$subj" -out "$PKI_DIR/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" -CAcreateserial \
    -days "$PKI_DAYS" -extfile <(printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n') \
    -out "$PKI_DIR/$name.crt" 2>/dev/null
  rm -f "$PKI_DIR/$name.csr"
}

# serving_cert <name> <CN> <subjectAltName>
serving_cert() {
  local name=$1 cn=$2 san=$3
  [[ -f "$PKI_DIR/$name.crt" ]] && return 0
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI_DIR/$name.key" -subj "/CN=$cn" -out "$PKI_DIR/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" -CAcreateserial \
    -days "$PKI_DAYS" -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' "$san") \
    -out "$PKI_DIR/$name.crt" 2>/dev/null
  rm -f "$PKI_DIR/$name.csr"
}

# kubeconfig_for <file> <client-cert-name> : a kubeconfig for the local API server.
kubeconfig_for() {
  local file=$1 name=$2
  cat >"$file" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: kiln-local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $PKI_DIR/ca.crt
users:
- name: $name
  user:
    client-certificate: $PKI_DIR/$name.crt
    client-key: $PKI_DIR/$name.key
contexts:
- name: kiln-local
  context:
    cluster: kiln-local
    user: $name
current-context: kiln-local
KUBECONFIG
  chmod 600 "$file"
}

generate_pki() {
  command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"
  mkdir -p "$PKI_DIR" && chmod 700 "$PKI_DIR"
  if [[ ! -f "$PKI_DIR/ca.crt" ]]; then
    log "pki: generating CA and certificates in $PKI_DIR"
    openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$PKI_DIR/ca.key" -subj "/CN=kiln-local-ca" \
      -days "$PKI_DAYS" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out "$PKI_DIR/ca.crt" 2>/dev/null
  fi
  local svc_ip
  svc_ip=$(first_service_ip "$SERVICE_CIDR")
  # A certificate from before the real node's address was a name of the API server is made again.
  if [[ -f "$PKI_DIR/apiserver.crt" ]] && ! openssl x509 -in "$PKI_DIR/apiserver.crt" -noout -ext subjectAltName 2>/dev/null | grep -q "IP Address:$NODE_IP\b"; then
    rm -f "$PKI_DIR/apiserver.crt" "$PKI_DIR/apiserver.key"
  fi
  serving_cert apiserver kube-apiserver \
    "IP:127.0.0.1,IP:$NODE_IP,IP:$svc_ip,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  client_cert admin kiln-admin system:masters
  client_cert kube-controller-manager system:kube-controller-manager ""
  client_cert kube-scheduler system:kube-scheduler ""
  # KWOK and Kueue act for many nodes/queues; in this throwaway harness they run as cluster admins.
  client_cert kwok kiln-kwok system:masters
  client_cert kueue kiln-kueue system:masters
  client_cert jobset kiln-jobset system:masters
  # CoreDNS reads Services, EndpointSlices, pods and namespaces only (ClusterRole kiln:coredns, node.sh).
  client_cert coredns kiln-coredns ""
  # The API server's identity towards kubelets (kubectl logs/exec/port-forward).
  client_cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  [[ -f "$PKI_DIR/sa.key" ]] || {
    openssl genrsa -out "$PKI_DIR/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null
  }
  local c
  for c in admin kube-controller-manager kube-scheduler kwok kueue jobset coredns; do kubeconfig_for "$PKI_DIR/$c.kubeconfig" "$c"; done
  cp "$PKI_DIR/admin.kubeconfig" "$KILN_KUBECONFIG" && chmod 600 "$KILN_KUBECONFIG"
}

# first_service_ip 10.96.0.0/16 -> 10.96.0.1 (the `kubernetes` Service's ClusterIP).
first_service_ip() {
  local net=${1%/*}
  echo "${net%.*}.$((${net##*.} + 1))"
}
