/**
 * Kiln's CrossGuard policy pack: `pulumi preview --policy-pack policy`. The rules live in
 * policy/rules (written once); `npm run policy -- --stack <stack>` runs the same rules offline.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_DESCRIPTION, PACK_NAME, POLICIES } from "./pack";

new PolicyPack(PACK_NAME, { enforcementLevel: "mandatory", description: PACK_DESCRIPTION, policies: POLICIES });
