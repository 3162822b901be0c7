using System.IO;
using System.Linq;
using System.Xml.Linq;
using Ludex;
using NUnit.Framework;

namespace Ludex.Tests
{
    /// <summary>
    /// What Unity reads from the package, checked without Unity: the manifest, the assembly
    /// definitions, link.xml, and that the core stays free of UnityEngine.
    /// </summary>
    [TestFixture]
    public class PackageLayoutTests
    {
        private static string PackageRoot()
        {
            return Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(PackageLayoutTests).Assembly.Location), ".."));
        }

        private static JsonObject ReadJson(string relative)
        {
            return Json.ParseObject(File.ReadAllText(Path.Combine(PackageRoot(), relative)));
        }

        [Test]
        public void ManifestNamesThePackageAndItsSample()
        {
            var manifest = ReadJson("package.json");
            Assert.AreEqual("dev.ludex.sdk", manifest.GetString("name"));
            StringAssert.IsMatch(@"^\d+\.\d+\.\d+$", manifest.GetString("version"));
            StringAssert.IsMatch(@"^20\d\d\.\d$", manifest.GetString("unity"));
            foreach (JsonObject sample in manifest.GetArray("samples"))
            {
                Assert.IsTrue(Directory.Exists(Path.Combine(PackageRoot(), sample.GetString("path"))), sample.GetString("path"));
            }
        }

        [Test]
        public void CoreAssemblyHasNoEngineDependency()
        {
            var core = ReadJson("Runtime/Core/Ludex.Core.asmdef");
            Assert.AreEqual("Ludex.Core", core.GetString("name"));
            Assert.IsTrue(core.GetBool("noEngineReferences"));
            Assert.AreEqual(0, core.GetArray("references").Count);
            foreach (string source in Directory.GetFiles(Path.Combine(PackageRoot(), "Runtime", "Core"), "*.cs"))
            {
                StringAssert.DoesNotContain("UnityEngine", File.ReadAllText(source), source);
            }
            var adapters = ReadJson("Runtime/Unity/Ludex.Unity.asmdef");
            CollectionAssert.AreEqual(new object[] { "Ludex.Core" }, adapters.GetArray("references"));
            var sample = ReadJson("Samples~/Quickstart/Ludex.Samples.Quickstart.asmdef");
            CollectionAssert.AreEquivalent(new object[] { "Ludex.Core", "Ludex.Unity" }, sample.GetArray("references"));
        }

        [Test]
        public void LinkXmlPreservesBothAssemblies()
        {
            var linker = XDocument.Load(Path.Combine(PackageRoot(), "Runtime", "link.xml")).Root;
            Assert.AreEqual("linker", linker.Name.LocalName);
            var preserved = linker.Elements("assembly").Where(a => (string)a.Attribute("preserve") == "all").Select(a => (string)a.Attribute("fullname")).ToList();
            CollectionAssert.IsSubsetOf(new[] { "Ludex.Core", "Ludex.Unity" }, preserved);
        }
    }
}
