/**
 * EC2 launch templates (what Batch's EC2 and Spot instances boot from): IMDSv2 only, and every EBS
 * volume encrypted.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { asList, forTypes, show, subject } from "./resources";

const LAUNCH_TEMPLATES = ["aws:ec2/launchTemplate:LaunchTemplate"];

export const imdsv2Required: ResourceValidationPolicy = {
  name: "ec2-launch-template-imdsv2",
  description: "Launch templates require IMDSv2 session tokens (metadataOptions.httpTokens \"required\") or turn the metadata service off.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: 'Set metadataOptions.httpTokens to "required" (and keep httpPutResponseHopLimit at 1 unless containers must reach IMDS).',
  validateResource: forTypes(LAUNCH_TEMPLATES, (props, args, report) => {
    const options = props.metadataOptions as { httpEndpoint?: unknown; httpTokens?: unknown } | undefined;
    if (options?.httpEndpoint === "disabled") return;
    if (options?.httpTokens !== "required") {
      const now = options?.httpTokens === undefined ? "is not set (EC2 then accepts IMDSv1)" : `is ${show(options.httpTokens)}`;
      report(`${subject(args)}: metadataOptions.httpTokens ${now}; set it to "required" so instances answer metadata requests only with an IMDSv2 session token.`);
    }
  }),
};

export const volumesEncrypted: ResourceValidationPolicy = {
  name: "ec2-launch-template-encrypted-volumes",
  description: "Launch templates map their EBS volumes, root included, with ebs.encrypted true.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: 'Add a blockDeviceMappings entry for the root device (e.g. "/dev/xvda") with ebs.encrypted "true".',
  validateResource: forTypes(LAUNCH_TEMPLATES, (props, args, report) => {
    const mappings = asList(props.blockDeviceMappings) as { deviceName?: string; ebs?: { encrypted?: unknown }; virtualName?: string; noDevice?: string }[];
    if (mappings.length === 0) {
      report(`${subject(args)}: blockDeviceMappings is empty, so the root volume keeps the AMI's settings, unencrypted unless the account encrypts EBS by default; add a mapping for the root device with ebs.encrypted "true".`);
    }
    mappings.forEach((mapping, i) => {
      // Instance store (virtualName) and suppressed (noDevice) mappings have no EBS volume to encrypt.
      if (mapping.virtualName !== undefined || mapping.noDevice !== undefined) return;
      const encrypted = mapping.ebs?.encrypted;
      if (encrypted !== true && encrypted !== "true") {
        const now = encrypted === undefined ? "is not set" : `is ${show(encrypted)}`;
        report(`${subject(args)}: blockDeviceMappings[${i}] (${show(mapping.deviceName)}) ebs.encrypted ${now}; set it to "true".`);
      }
    });
  }),
};

export const ec2Policies = [imdsv2Required, volumesEncrypted];
