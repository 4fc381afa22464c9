// Verifies Verifiable Credentials secured with Data Integrity `eddsa-jcs-2022` using Digital Bazaar's
// libraries, not civiclab's code: an independent check of what the attestation pilot issues.
// Reads {"credentials": [...], "trustedIssuers": [...], "verificationTime"?: ISO, "statusLists"?: [...]} on
// stdin, writes one verdict per credential. With a verification time, the credential must be within its
// validFrom/validUntil then, and each W3C Bitstring Status List entry is read in the latest signed list
// published at or before that time (a revocation after it does not count).
// Nothing is fetched: contexts come from npm packages, did:key documents from the did:key driver, status
// lists from the input.
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createVerifyCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {driver} from '@digitalbazaar/did-method-key';
import * as credentialsContext from '@digitalbazaar/credentials-context';
import didContext from 'did-context';
import multikeyContext from '@digitalbazaar/multikey-context';
import jsigs from 'jsonld-signatures';
import {gunzipSync} from 'node:zlib';

const {purposes: {AssertionProofPurpose}} = jsigs;

const didKeyDriver = driver();
didKeyDriver.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});

const contexts = new Map([
  ...credentialsContext.contexts,
  ...didContext.contexts,
  ...multikeyContext.contexts,
]);

async function documentLoader(url) {
  if (contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  if (url.startsWith('did:key:')) {
    const document = await didKeyDriver.get({url});
    return {contextUrl: null, documentUrl: url, document};
  }
  throw new Error(`offline: refusing to load ${url}`);
}

async function signedBy(credential) {
  const result = await jsigs.verify(credential, {
    suite: new DataIntegrityProof({cryptosuite: createVerifyCryptosuite()}),
    purpose: new AssertionProofPurpose(),
    documentLoader,
  });
  if (!result.verified) {
    const error = result.error?.errors?.[0] ?? result.error;
    return {error: String(error?.message ?? error)};
  }
  // The signing key's controller must be the issuer the credential names.
  const issuer = typeof credential.issuer === 'string' ? credential.issuer : credential.issuer?.id;
  const controller = result.results[0].purposeResult.controller.id;
  if (controller !== issuer) {
    return {error: `signed by ${controller}, not by the issuer ${issuer}`};
  }
  return {issuer};
}

function bitSet(encodedList, index) {
  if (!encodedList.startsWith('u')) throw new Error('encodedList is not multibase base64url');
  const bits = gunzipSync(Buffer.from(encodedList.slice(1), 'base64url'));
  if (index >= bits.length * 8) throw new Error(`status index ${index} outside the list`);
  return (bits[index >> 3] & (0x80 >> (index & 7))) !== 0;
}

async function revokedAt(credential, issuer, time, statusLists) {
  const entries = [credential.credentialStatus ?? []].flat()
    .filter(e => e.type === 'BitstringStatusListEntry' && e.statusPurpose === 'revocation');
  for (const e of entries) {
    const lists = statusLists
      .filter(l => l.id === e.statusListCredential && Date.parse(l.validFrom) <= time)
      .sort((a, b) => Date.parse(b.validFrom) - Date.parse(a.validFrom));
    if (lists.length === 0) return `no status list ${e.statusListCredential} published by then`;
    const signed = await signedBy(lists[0]);
    if (signed.error) return `status list: ${signed.error}`;
    if (signed.issuer !== issuer) return `status list signed by ${signed.issuer}, not by the issuer`;
    if (bitSet(lists[0].credentialSubject.encodedList, Number(e.statusListIndex))) {
      return `revoked (status list of ${lists[0].validFrom})`;
    }
  }
  return null;
}

async function check(credential, trusted, time, statusLists) {
  const signed = await signedBy(credential);
  if (signed.error) return {verified: false, error: signed.error};
  const {issuer} = signed;
  if (!trusted.includes(issuer)) {
    return {verified: false, error: `issuer ${issuer} is not trusted`};
  }
  if (time !== null) {
    if (credential.validFrom && time < Date.parse(credential.validFrom)) {
      return {verified: false, error: 'not yet valid'};
    }
    if (credential.validUntil && time >= Date.parse(credential.validUntil)) {
      return {verified: false, error: 'expired'};
    }
    const revoked = await revokedAt(credential, issuer, time, statusLists);
    if (revoked) return {verified: false, error: revoked};
  }
  return {verified: true, error: null};
}

let input = '';
for await (const chunk of process.stdin) {
  input += chunk;
}
const {credentials, trustedIssuers, verificationTime = null, statusLists = []} = JSON.parse(input);
const time = verificationTime === null ? null : Date.parse(verificationTime);
const verdicts = [];
for (const credential of credentials) {
  try {
    verdicts.push(await check(credential, trustedIssuers, time, statusLists));
  } catch (e) {
    verdicts.push({verified: false, error: String(e?.message ?? e)});
  }
}
process.stdout.write(JSON.stringify(verdicts));
