// Verifies Verifiable Credentials secured with Data Integrity `eddsa-jcs-2022` using Digital Bazaar's
// libraries, not civiclab's code: an independent check of what the attestation pilot issues.
// Reads {"credentials": [...], "trustedIssuers": [...]} on stdin, writes one verdict per credential.
// Nothing is fetched: contexts come from npm packages, did:key documents from the did:key driver.
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createVerifyCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {driver} from '@digitalbazaar/did-method-key';
import * as credentialsContext from '@digitalbazaar/credentials-context';
import didContext from 'did-context';
import multikeyContext from '@digitalbazaar/multikey-context';
import jsigs from 'jsonld-signatures';

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

async function check(credential, trusted) {
  const result = await jsigs.verify(credential, {
    suite: new DataIntegrityProof({cryptosuite: createVerifyCryptosuite()}),
    purpose: new AssertionProofPurpose(),
    documentLoader,
  });
  if (!result.verified) {
    const error = result.error?.errors?.[0] ?? result.error;
    return {verified: false, error: String(error?.message ?? error)};
  }
  // The signing key's controller must be the issuer the credential names, and one the verifier trusts.
  const issuer = typeof credential.issuer === 'string' ? credential.issuer : credential.issuer?.id;
  const controller = result.results[0].purposeResult.controller.id;
  if (controller !== issuer) {
    return {verified: false, error: `signed by ${controller}, not by the issuer ${issuer}`};
  }
  if (!trusted.includes(issuer)) {
    return {verified: false, error: `issuer ${issuer} is not trusted`};
  }
  return {verified: true, error: null};
}

let input = '';
for await (const chunk of process.stdin) {
  input += chunk;
}
const {credentials, trustedIssuers} = JSON.parse(input);
const verdicts = [];
for (const credential of credentials) {
  try {
    verdicts.push(await check(credential, trustedIssuers));
  } catch (e) {
    verdicts.push({verified: false, error: String(e?.message ?? e)});
  }
}
process.stdout.write(JSON.stringify(verdicts));
