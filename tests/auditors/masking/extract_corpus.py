"""A hand-written extract, labelled by hand: what a real delivery's columns hold.

Written cell by cell for this corpus (not generated, not from the recognizers' own
patterns): CRM notes, support tickets, log lines, addresses, HTML and Markdown, JSON
in a cell, e-mail headers and chat, next to the hard negatives such an extract is full
of (order, invoice and tracking numbers, UUIDs, ISBNs, timestamps, versions, prices,
routing numbers, masked values, numbers failing Luhn or mod-97).

Each cell carries the entities it truly holds, as letters: ``E`` e-mail, ``P`` phone,
``S`` US SSN, ``C`` card, ``I`` IBAN, ``A`` IP address, ``D`` date of birth, ``Z``
postal code, ``N`` person name.  Card numbers are issuers' published test numbers and
IBANs the registry's and banks' published examples; their check digits were verified
with integer arithmetic in :func:`luhn_ok` and :func:`mod97_ok`, not with the scanner.
"""

from __future__ import annotations

ENTITY_OF = {
    "E": "EMAIL_ADDRESS",
    "P": "PHONE_NUMBER",
    "S": "US_SSN",
    "C": "CREDIT_CARD",
    "I": "IBAN_CODE",
    "A": "IP_ADDRESS",
    "D": "DATE_OF_BIRTH",
    "Z": "POSTAL_CODE",
    "N": "PERSON",
}

CORPUS: dict[str, list[tuple[str, str]]] = {
    "crm_note": [
        ("Spoke to Mrs Okafor, prefers e-mail: adaeze.okafor@gmail.com, no calls pls", "EN"),
        ("cust called from (415) 867-5309 re late fee, waived $25.00 as goodwill", "P"),
        ("Left VM on 212.555.0198 -- will retry Thu", "P"),
        ("New mobile +1-646-555-0123 (old one disconnected)", "P"),
        ("Renewal quote sent, 12% discount approved by sales mgr", ""),
        ("Order #114-3941689-8772232 delayed, customer informed", ""),
        ("Paid w/ card ending 4242, auth code 0A1B2C", ""),
        ("Card on file 4111 1111 1111 1111 exp 09/27 -- REMOVE after charge!!", "C"),
        ("Wire from DE89 3704 0044 0532 0130 00, ref INV-2024-0173", "I"),
        ("Refund to IBAN GB82WEST12345698765432 requested", "I"),
        ("Customer gave SSN 536-90-4399 for credit check (should not be stored here)", "S"),
        ("DOB 03/14/1982, verified with driving licence", "D"),
        ("Applicant date of birth - 1980-01-01 (from passport scan)", "D"),
        ("Moved to 1600 Amphitheatre Pkwy, Mountain View, CA 94043", "Z"),
        ("Mailing addr: PO Box 2210, Austin TX 78768-2210", "Z"),
        ("Escalated to Dr. Priya Raman (account director)", "N"),
        ("Contact person: Lars Eriksson, lars.eriksson@volvo-partner.se", "EN"),
        ("Prospect asked for pricing on 500 seats at EUR 18.50/seat/month", ""),
        ("Invoice 2024-00417 overdue 45 days, 2nd reminder sent 2024-05-02", ""),
        ("Callback requested at 0161 496 0000 after 3pm UK time", "P"),
        ("email is sarah dot connor at cyberdyne dot com (spelled out on the call)", ""),
        ("Cust email j***@e***.com (masked in export)", ""),
        ("Phone on file: ***-***-4567", ""),
        ("Acct xxxx-xxxx-xxxx-1881 flagged for chargeback", ""),
        ("Meeting moved to 10:30 on 14.03.2024, room 2.14", ""),
        ("Tracking 1Z999AA10123456784 shows delivered", ""),
        ("SSN on application: 078-05-1120?? that's the Woolworth wallet number, reject", ""),
        ("Test card 4111 1111 1111 1112 declined (typo by agent)", ""),
    ],
    "ticket_body": [
        ("Hi, I can't log in since the update. My email is MARK.T.HOLLOWAY@OUTLOOK.COM", "E"),
        ("Please send the invoice to accounts+invoices@brightwave.io instead", "E"),
        ("Rechnung bitte an buchhaltung@müller-bäckerei.de schicken, danke", "E"),
        ("Mon adresse est josé.garcía@correo.es, merci de corriger", "E"),
        ("Hello, my name is Aisha Bello and my account was charged twice", "N"),
        ("I paid with 5555 5555 5555 4444 and it was charged twice on 3/2", "C"),
        ("card no. 3782-822463-10005 (amex) please refund", "C"),
        ("Used 6011 1111 1111 1117 at checkout, got error E-4021", "C"),
        ("My bank is ING, IBAN NL91 ABNA 0417 1643 00, please refund there", "I"),
        ("Numéro IBAN : FR14 2004 1010 0505 0001 3M02 606", "I"),
        ("IBAN: ES9121000418450200051332", "I"),
        ("Bitte überweisen auf AT61 1904 3002 3457 3201", "I"),
        ("App crashes on Android 14, version 5.12.0 (build 51200)", ""),
        ("Order 100-4829173-5521034 never arrived. Tracking says 9400 1118 9922 3197 4284 90", ""),
        ("Charged $1,249.99 instead of $1,149.99, difference is $100.00 (8.7%)", ""),
        ("ISBN 978-0-306-40615-7 missing pages 112-130", ""),
        ("Reference number: 4000 1234 5678 9010 (from the confirmation e-mail)", ""),
        ("the serial on the box is SN 7712-3456-7890-12", ""),
        ("Call me at +44 7700 900123 or 07700 900456, whichever", "P"),
        ("you can reach me on 555.123.4567 any time", "P"),
        ("my ssn is 412 67 2290 if you need to verify", "S"),
        ("Last 4 of SSN: 6789", ""),
        ("Routing 322271627 acct 000123456789 for the direct deposit", ""),
        ("IBAN DE89 3704 0044 0532 0130 01 (is that right? bank says invalid)", ""),
        ("Our VAT number is DE 136 695 976", ""),
        ("Ticket merged with #48213; see KB-1120", ""),
        ("Dear support, born 12 July 1990 so the age check is wrong", "D"),
    ],
    "log_line": [
        ('10.12.4.77 - - [14/Mar/2024:09:26:53 +0000] "GET /api/v2/orders HTTP/1.1" 200 5120', "A"),
        ("2024-03-14T09:26:53.589Z INFO login ok user_id=88213 ip=203.0.113.45", "A"),
        (
            "Mar 14 09:26:53 web01 sshd[20817]: Failed password for root"
            " from 198.51.100.23 port 52144 ssh2",
            "A",
        ),
        ("client 2001:db8:85a3::8a2e:370:7334 connected via TLSv1.3", "A"),
        ("bound listener on [fe80::1ff:fe23:4567:890a%eth0]:8443", "A"),
        ("peer=::ffff:192.0.2.128 sent RST", "A"),
        (
            '"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36'
            ' Chrome/120.0.0.0 Safari/537.36"',
            "",
        ),
        ("upgrade complete: agent 1.2.3.4 -> 1.2.4.0", ""),
        ("kernel: 5.15.0-91-generic #101-Ubuntu SMP", ""),
        (
            "thread 'main' panicked at 'index out of bounds',"
            " std::vec::Vec::index src/main.rs:42:5",
            "",
        ),
        ("serde::de::Error: invalid type at line 1 column 37", ""),
        ("req_id=3f2b9c1e-7d4a-4e8b-9a6f-1c2d3e4f5a6b latency_ms=87 status=200", ""),
        ('ts=1710408413584 level=warn msg="retrying" attempt=3', ""),
        ('ts=1710408413 level=info msg="cache warm" keys=120394', ""),
        ("job 20240314092659 finished in 00:03:12.045", ""),
        ("mac=00:1A:2B:3C:4D:5E vlan=120 port=Gi1/0/24", ""),
        ("checksum sha1=da39a3ee5e6b4b0d3255bfef95601890afd80709", ""),
        ("payment_gateway: charge ok amount=129.00 currency=USD last4=1111 brand=visa", ""),
        ("payment_gateway DEBUG raw pan=4012888888881881 (LOGGING PAN IS A PCI VIOLATION)", "C"),
        ("smtp: delivered to <r.kowalski@firma.pl> relay=mx1.firma.pl[91.198.174.192]", "EA"),
        ("WARN disk 91.3% full on /dev/sda1", ""),
        ("route add 10.0.0.0/8 via 172.16.0.1 dev eth1", "A"),
        ("GET /static/app.3.14.159.js 304", ""),
        ("dns query AAAA for api.example.com -> 2606:4700:4700::1111", "A"),
        ("build 10.0.19045.3930 installed", ""),
    ],
    "address": [
        ("742 Evergreen Terrace, Springfield, OR 97475", "Z"),
        ("1600 Pennsylvania Ave NW, Washington, DC 20500-0003", "Z"),
        ("Flat 4, 22 Baker Street, London NW1 6XE", "Z"),
        ("10 Downing Street, London SW1A 2AA, United Kingdom", "Z"),
        ("Unter den Linden 77; 10117 Berlin", "Z"),
        ("Suite 1200, 233 S Wacker Dr, Chicago IL 60606", "Z"),
        ("Apt 3B, 55 W 46th St, New York, NY 10036-4102", "Z"),
        ("Route 9, Km 12.5, Building 4, Floor 3", ""),
        ("PO BOX 1234, ANCHORAGE AK 99501", "Z"),
        ("Calle de Alcalá 48, 28014 Madrid", "Z"),
    ],
    "html_snippet": [
        ('<a href="mailto:help@acme-support.com">Contact us</a>', "E"),
        ('<p>Call <a href="tel:+18005550199">1-800-555-0199</a> for help</p>', "P"),
        ("<td>Visa</td><td>4000 0566 5566 5556</td><td>12/26</td>", "C"),
        ('<span class="price">$19.99</span> <span class="sku">SKU-55120-BLK</span>', ""),
        ('<img src="https://cdn.example.com/img/banner@2x.png" alt="banner">', ""),
        ("**Owner:** Tomás Ferreira (<tomas.ferreira@exemplo.com.br>)", "EN"),
        ("| Server | IP | Role |\n|---|---|---|\n| db-2 | 10.20.30.40 | primary |", "A"),
        ("See [RFC 5322](https://www.rfc-editor.org/rfc/rfc5322) section 3.4.1", ""),
        ('<meta name="version" content="2.4.1.7">', ""),
        ("<!-- build 2024.03.14 rev a1b2c3d -->", ""),
    ],
    "json_payload": [
        ('{"user": {"email": "li.wei@example.cn", "plan": "pro"}}', "E"),
        ('{"phone": "+49 30 12345678", "country": "DE"}', "P"),
        ('{"card": {"number": "5105105105105100", "exp": "11/26", "cvc": "123"}}', "C"),
        ('{"iban":"IT60X0542811101000000123456","bic":"BPMOIT22XXX"}', "I"),
        ('{"ssn": "219-45-6789", "dob": "1975-02-28"}', "SD"),
        ('{"client_ip": "2a02:26f0:fd::5c7a:b2f3", "ua": "curl/8.4.0"}', "A"),
        ('{"order_id": 9834221, "total": 54.10, "currency": "EUR", "items": 3}', ""),
        (
            '{"id": "6f1c2a4e-0b3d-4c5e-8f7a-9b0c1d2e3f40",'
            ' "created": "2024-01-09T16:20:11+01:00"}',
            "",
        ),
        ('{"card_last4": "4444", "card_masked": "555555******4444", "brand": "mastercard"}', ""),
        ('{"version": "3.11.4", "lat": 52.520008, "lon": 13.404954}', ""),
        ('{"isbn13": "9780306406157", "pages": 412}', ""),
        ('{"aba_routing": "021000021", "account": "****6789"}', ""),
        ('{"ean": "4006381333931", "qty": 12}', ""),
    ],
    "email_header": [
        ("From: Jane Doe <jane.doe@example.com>", "EN"),
        ('To: "Ops Team" <OPS-TEAM@CORP.EXAMPLE.NET>', "E"),
        ("Reply-To: billing+eu@shop.example.co.uk", "E"),
        ("Received: from mail.example.org (mail.example.org [192.0.2.17]) by mx.google.com", "A"),
        ("Message-ID: <CAH2x9+Yq1_r7k@mail.gmail.com>", ""),
        ("Date: Thu, 14 Mar 2024 09:26:53 +0100", ""),
        ("X-Originating-IP: [2001:db8::f00d]", "A"),
        ("Cc: a.nowak@pw.edu.pl, m.schmidt@tu-berlin.de", "E"),
        ("Subject: Re: Invoice 2024-00417 / PO 4500012345", ""),
        ("Return-Path: <bounce-12345-abc@mailer.example.com>", "E"),
    ],
    "chat": [
        ("hey its me, new # is 617-555-0142", "P"),
        ("text me on +1 (312) 555 0187 when ur outside", "P"),
        ("lol my ssn is literally 123-45-6789 jk", ""),
        ("ok sent u 50 quid, sort code 20-00-00 acct 55779911", ""),
        ("my old email was kevin_r@hotmail.co.uk btw", "E"),
        ("meet at 5:30? or 6.15", ""),
        ("the wifi pw is 4815162342 lol", ""),
        ("pls pay into CH93 0076 2011 6238 5295 7 by friday", "I"),
        ("got 98.6% on the exam!!", ""),
        ("bday party 07/04, bring snacks", ""),
        ("ya my dob is 1988-11-23", "D"),
        ("ping me @mike.t on slack", ""),
        ("v2.0.1.3 is out, update your client", ""),
        ("server's at 192.168.0.12, user admin", "A"),
        ("call 0800 123 4567 its free", "P"),
        ("card 4242424242424242 exp 12/30 cvc 314 (stripe test lol)", "C"),
    ],
    "contact_email": [
        ("maria.rossi@libero.it", "E"),
        ("<peter.novak@seznam.cz>", "E"),
        ("Peter Novak <peter.novak@seznam.cz>", "EN"),
        ("O'Brien.Sean@ClientMail.IE", "E"),
        ("info@xn--mller-kva.de", "E"),
        ("n/a", ""),
        ("j.d***@gmail.com", ""),
        ("support AT example DOT org", ""),
        ("@twitter_handle", ""),
    ],
    "phone": [
        ("(555) 123-4567", "P"),
        ("555.123.4567", "P"),
        ("+1-555-123-4567", "P"),
        ("+1 555 123 4567 ext. 204", "P"),
        ("4155550132", "P"),
        ("+353 1 234 5678", "P"),
        ("+61 2 9876 5432", "P"),
        ("+91 98765 43210", "P"),
        ("(555) ***-**67", ""),
        ("unknown", ""),
        ("000-000-0000", ""),
    ],
    "card_number": [
        ("4012 8888 8888 1881", "C"),
        ("5105-1051-0510-5100", "C"),
        ("371449635398431", "C"),
        ("3530 1113 3330 0000", "C"),
        ("6011-0009-9013-9424", "C"),
        ("2223 0031 2200 3222", "C"),
        ("30569309025904", "C"),
        ("**** **** **** 1111", ""),
        ("411111******1111", ""),
        ("4111 1111 1111 1121", ""),
        ("1234 5678 9012 3456", ""),
    ],
    "iban": [
        ("BE68 5390 0754 7034", "I"),
        ("PL61 1090 1014 0000 0712 1981 2874", "I"),
        ("SE4550000000058398257466", "I"),
        ("NO93 8601 1117 947", "I"),
        ("IE29 AIBK 9311 5212 3456 78", "I"),
        ("gb82 west 1234 5698 7654 32", "I"),
        ("GB82 WEST 1234 5698 7654 33", ""),
        ("DE00 0000 0000 0000 0000 00", ""),
        ("XX12 3456 7890 1234", ""),
        ("DE89 **** **** **** **30 00", ""),
    ],
    "ssn": [
        ("536-90-4399", "S"),
        ("536904399", "S"),
        ("401 22 8765", "S"),
        ("000-12-3456", ""),
        ("666-45-1234", ""),
        ("912-34-5678", ""),
        ("***-**-4399", ""),
        ("XXX-XX-4399", ""),
    ],
    "ip": [
        ("8.8.8.8", "A"),
        ("172.31.255.254", "A"),
        ("2001:0db8:0000:0000:0000:ff00:0042:8329", "A"),
        ("::1", "A"),
        ("256.1.1.1", ""),
        ("10.0.0", ""),
        ("192.168.1.0/24", "A"),
        ("203.0.113.x", ""),
    ],
    "order_ref": [
        ("100-4829173-5521034", ""),
        ("INV-2024-000817", ""),
        ("PO4500012345", ""),
        ("1Z999AA10123456784", ""),
        ("9400111899223197428490", ""),
        ("123e4567-e89b-12d3-a456-426614174000", ""),
        ("978-3-16-148410-0", ""),
        ("2024-03-14 09:26:53", ""),
        ("14/03/2024", ""),
        ("20240314", ""),
        ("1.2.3", ""),
        ("$4,129.00", ""),
        ("12.5%", ""),
    ],
}
"""Column name -> cells, each with the letters of the entities it truly holds."""


def luhn_ok(number: str) -> bool:
    """Whether the digits of ``number`` pass the Luhn check (plain integer arithmetic)."""
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        total += d if i % 2 == 0 else (2 * d - 9 if d > 4 else 2 * d)
    return total % 10 == 0


def mod97_ok(iban: str) -> bool:
    """Whether ``iban`` passes ISO 7064 mod 97-10 (plain integer arithmetic)."""
    compact = iban.replace(" ", "").upper()
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1
