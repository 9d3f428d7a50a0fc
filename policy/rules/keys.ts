/** Registry, keys and queues: ECR, KMS, SQS. */
import type { ResourceRule } from "./types";
import { asArray, isTrue, typeIn } from "./util";

const ECR = "aws:ecr/repository";

export const ecrImmutableTags: ResourceRule = {
  kind: "resource",
  name: "ecr-immutable-tags",
  description: "ECR repositories have immutable tags (a tag always means the same image).",
  severity: "high",
  applies: (type) => typeIn(type, ECR),
  check: (r) =>
    r.props.imageTagMutability === "IMMUTABLE"
      ? []
      : [
          `ECR repository ${r.name} tags are ${r.props.imageTagMutability ?? "MUTABLE (default)"}: set imageTagMutability IMMUTABLE`,
        ],
};

export const ecrScanOnPush: ResourceRule = {
  kind: "resource",
  name: "ecr-scan-on-push",
  description: "ECR repositories scan images on push.",
  severity: "medium",
  applies: (type) => typeIn(type, ECR),
  check: (r) =>
    isTrue(r.props.imageScanningConfiguration?.scanOnPush)
      ? []
      : [`ECR repository ${r.name} does not scan on push: set imageScanningConfiguration.scanOnPush true`],
};

export const ecrKmsEncryption: ResourceRule = {
  kind: "resource",
  name: "ecr-kms-encryption",
  description: "ECR repositories are encrypted with KMS.",
  severity: "medium",
  applies: (type) => typeIn(type, ECR),
  check: (r) => {
    const enc = asArray<any>(r.props.encryptionConfigurations)[0];
    return enc?.encryptionType === "KMS"
      ? []
      : [
          `ECR repository ${r.name} encryption is ${enc?.encryptionType ?? "AES256 (default)"}: set encryptionConfigurations [{encryptionType: KMS, kmsKey}]`,
        ];
  },
};

export const kmsKeyRotation: ResourceRule = {
  kind: "resource",
  name: "kms-key-rotation",
  description: "Symmetric KMS keys rotate yearly.",
  severity: "medium",
  applies: (type, props) =>
    typeIn(type, "aws:kms/key") &&
    (props.customerMasterKeySpec ?? props.keySpec ?? "SYMMETRIC_DEFAULT") === "SYMMETRIC_DEFAULT",
  check: (r) =>
    isTrue(r.props.enableKeyRotation) ? [] : [`KMS key ${r.name} does not rotate: set enableKeyRotation true`],
};

export const sqsEncryption: ResourceRule = {
  kind: "resource",
  name: "sqs-encryption",
  description: "SQS queues are encrypted at rest (SSE-SQS or KMS).",
  severity: "medium",
  applies: (type) => typeIn(type, "aws:sqs/queue"),
  check: (r) =>
    isTrue(r.props.sqsManagedSseEnabled) || r.props.kmsMasterKeyId
      ? []
      : [`SQS queue ${r.name} is not encrypted: set sqsManagedSseEnabled true or kmsMasterKeyId`],
};

export const keyRules = [ecrImmutableTags, ecrScanOnPush, ecrKmsEncryption, kmsKeyRotation, sqsEncryption];
