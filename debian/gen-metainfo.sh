#!/bin/sh
# Writes the AppStream metainfo of libifd-openloop to stdout, with one
# modalias per USB ID the udev rules (argument 1) grant access to, so that
# software centres can offer the package for a plugged-in key and the list
# never disagrees with the rules.  AppStream wants upper-case hex.
set -eu
rules=$1
ids=$(sed -n 's/.*ATTRS{idVendor}=="\([0-9a-fA-F]\{4\}\)", ATTRS{idProduct}=="\([0-9a-fA-F]\{4\}\)".*/\1 \2/p' "$rules" |
	awk '{ print "usb:v" toupper($1) "p" toupper($2) "d*" }')
[ -n "$ids" ] || { echo "gen-metainfo.sh: no USB IDs in $rules" >&2; exit 1; }
cat <<XML
<?xml version="1.0" encoding="UTF-8"?>
<component type="driver">
  <id>io.github.ifd_openloop.ifd_openloop</id>
  <metadata_license>FSFAP</metadata_license>
  <project_license>LGPL-2.1-or-later</project_license>
  <name>Openloop PC/SC driver</name>
  <summary>PC/SC driver for the Openloop security key's PIV applet</summary>
  <description>
    <p>
      Lets pcscd reach the PIV applet of an Openloop security key through
      the key's FIDO HID interface, so PC/SC applications see it as a
      reader with a card inserted.
    </p>
  </description>
  <url type="homepage">https://github.com/ifd-openloop/ifd-openloop</url>
  <provides>
XML
for id in $ids; do
	echo "    <modalias>$id</modalias>"
done
cat <<XML
  </provides>
</component>
XML
